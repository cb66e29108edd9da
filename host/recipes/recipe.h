// recipe.h — one recipe (recipes/<id>.json): a model plus the settings it runs best with.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace omnihost {

struct recipe_entry {
    std::string id;           // equals the file name without .json
    std::string name;
    std::string description;
    std::string model;        // hub id ("Wan-AI/...") or a path
    std::string model_root;   // "" (as given) or "data_dir" (model is relative to --data-dir)
    std::string model_type;   // video, audio, image, tts, omni
    std::string run_mode;     // preferred run mode; "subprocess" when the file says nothing
    nlohmann::json defaults = nlohmann::json::object(); // parameters under the recipe's names (manifest aliases allowed)
    nlohmann::json hints = nlohmann::json::object();    // container_limitation, requires_hf_token, ...
    std::string file;         // file name it came from, for messages

    nlohmann::json to_json() const;
};

// A recipe file that was rejected: which file, which field, why.
struct recipe_problem {
    std::string file;
    std::string field;   // "" when the whole file is at fault (unreadable, not JSON)
    std::string message; // "<file>: <field>: <reason>"
};

// Parses and validates one recipe document. `file_name` is used for messages and must be
// "<id>.json". Returns the recipe or the first problem found.
std::optional<recipe_entry> parse_recipe(const nlohmann::json &document, const std::string &file_name,
                                   recipe_problem &problem);

} // namespace omnihost
