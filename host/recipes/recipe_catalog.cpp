#include "recipes/recipe_catalog.h"

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/json_limits.h"

namespace omnihost {
namespace fs = std::filesystem;

namespace {

// A recipe (or the model catalogue) is a hand-written file of a few KiB.
constexpr std::size_t kMaxRecipeFileBytes = 4u << 20;

bool read_json_file(const fs::path &path, nlohmann::json &out, std::string &error) {
    std::ifstream in(path, std::ios::binary);
    if (!in) {
        error = "cannot open file";
        return false;
    }
    std::stringstream buffer;
    buffer << in.rdbuf();
    try {
        out = parse_json_bounded(buffer.str(), {json_default_max_depth, kMaxRecipeFileBytes});
    } catch (const json_limit_error &e) {
        error = e.what();
        return false;
    } catch (const nlohmann::json::parse_error &e) {
        error = std::string("invalid JSON: ") + e.what();
        return false;
    }
    return true;
}

} // namespace

void recipe_catalog::load(const std::string &dir, const std::string &default_id) {
    recipes_.clear();
    problems_.clear();
    default_id_ = default_id;
    std::error_code ec;
    if (!fs::is_directory(dir, ec)) {
        problems_.push_back({dir, "", dir + ": recipe folder does not exist"});
        return;
    }
    std::vector<fs::path> files;
    for (const auto &entry : fs::directory_iterator(dir, ec))
        if (entry.is_regular_file() && entry.path().extension() == ".json") files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const auto &path : files) {
        const std::string file_name = path.filename().string();
        nlohmann::json document;
        std::string error;
        if (!read_json_file(path, document, error)) {
            problems_.push_back({file_name, "", file_name + ": " + error});
            continue;
        }
        recipe_problem problem;
        if (auto recipe = parse_recipe(document, file_name, problem)) {
            recipes_.push_back(std::move(*recipe));
        } else {
            problems_.push_back(problem);
        }
    }
    auto it = std::find_if(recipes_.begin(), recipes_.end(),
                           [&](const recipe_entry &r) { return r.id == default_id; });
    if (it != recipes_.end()) {
        std::rotate(recipes_.begin(), it, it + 1);
    } else if (!default_id.empty()) {
        problems_.push_back({"", "default_recipe",
                             "--default-recipe: no valid recipe has id '" + default_id + "'"});
    }
}

void recipe_catalog::check_each(const std::function<std::string(const recipe_entry &)> &check) {
    std::vector<recipe_entry> kept;
    for (auto &recipe : recipes_) {
        const std::string message = check(recipe);
        if (message.empty()) {
            kept.push_back(std::move(recipe));
            continue;
        }
        // Messages start with the field they name ("defaults.steps: ...").
        const size_t colon = message.find(": ");
        problems_.push_back({recipe.file, colon == std::string::npos ? "" : message.substr(0, colon),
                             recipe.file + ": recipe '" + recipe.id + "': " + message});
        if (recipe.id == default_id_)
            problems_.push_back({"", "default_recipe", "--default-recipe: recipe '" + default_id_ + "' was refused"});
    }
    recipes_ = std::move(kept);
}

const recipe_entry *recipe_catalog::find(const std::string &id) const {
    for (const auto &recipe : recipes_)
        if (recipe.id == id) return &recipe;
    return nullptr;
}

nlohmann::json recipe_catalog::to_json() const {
    nlohmann::json list = nlohmann::json::array();
    for (const auto &recipe : recipes_) {
        nlohmann::json item = recipe.to_json();
        item["default"] = recipe.id == default_id_;
        list.push_back(std::move(item));
    }
    nlohmann::json invalid = nlohmann::json::array();
    for (const auto &problem : problems_)
        invalid.push_back({{"file", problem.file}, {"field", problem.field}, {"error", problem.message}});
    return {{"recipes", list}, {"default", default_id_}, {"invalid", invalid}};
}

nlohmann::json build_model_list(const recipe_catalog &recipes, const std::string &catalog_file,
                                std::vector<std::string> &problems) {
    nlohmann::json out = {{"image", nlohmann::json::array()}, {"omni", nlohmann::json::array()},
                          {"video", nlohmann::json::array()}, {"tts", nlohmann::json::array()},
                          {"audio", nlohmann::json::array()}};
    nlohmann::json catalog;
    std::string error;
    if (!read_json_file(catalog_file, catalog, error)) {
        problems.push_back(catalog_file + ": " + error);
        catalog = nlohmann::json::object();
    } else if (!catalog.is_object()) {
        problems.push_back(catalog_file + ": the top level must be an object keyed by model_type");
        catalog = nlohmann::json::object();
    }
    auto contains_id = [](const nlohmann::json &list, const std::string &id) {
        for (const auto &item : list)
            if (item.value("id", std::string()) == id) return true;
        return false;
    };
    // Recipe models first (default recipe first, since the catalogue keeps that order), so the
    // UI's "select the first entry" picks a model that runs here.
    for (const auto &recipe : recipes.recipes()) {
        auto &list = out[recipe.model_type];
        if (contains_id(list, recipe.model)) continue;
        nlohmann::json item = {{"id", recipe.model},
                               {"name", recipe.name},
                               {"description", recipe.description},
                               {"recipe", recipe.id}};
        if (recipe.hints.contains("vram")) item["vram"] = recipe.hints["vram"];
        if (recipe.hints.contains("supports_image_edit"))
            item["supports_image_edit"] = recipe.hints["supports_image_edit"];
        list.push_back(std::move(item));
    }
    for (const auto &[model_type, entries] : catalog.items()) {
        if (!out.contains(model_type) || !entries.is_array()) {
            problems.push_back(catalog_file + ": " + model_type + ": not a model_type with an array of models");
            continue;
        }
        for (const auto &entry : entries) {
            if (!entry.is_object() || !entry.contains("id") || !entry["id"].is_string()) {
                problems.push_back(catalog_file + ": " + model_type + ": an entry lacks a string \"id\"");
                continue;
            }
            const std::string id = entry["id"].get<std::string>();
            auto &list = out[model_type];
            bool merged = false;
            for (auto &item : list) {
                if (item.value("id", std::string()) != id) continue;
                // The recipe's entry stays; the catalogue adds vram / edit support it lacks.
                for (const auto &[key, value] : entry.items())
                    if (!item.contains(key)) item[key] = value;
                merged = true;
            }
            if (!merged) list.push_back(entry);
        }
    }
    return out;
}

} // namespace omnihost
