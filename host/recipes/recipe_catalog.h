// recipe_catalog.h — every recipe in --recipe-dir, loaded once at start-up. A bad file is
// reported (logged, listed under "invalid") and skipped; it never stops the host.
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "recipes/recipe.h"

namespace omnihost {

class recipe_catalog {
public:
    // Reads <dir>/*.json (not recursive), sorted by file name, with `default_id` moved first.
    // A missing folder gives an empty catalogue plus one problem.
    void load(const std::string &dir, const std::string &default_id);

    // Judges every recipe again (its defaults by the serving plugin's manifest): a recipe `check`
    // refuses (a message starting with the field, "defaults.steps: ...") leaves the list and is
    // listed under "invalid" naming its file, id and field. `check` returns "" to accept.
    void check_each(const std::function<std::string(const recipe_entry &)> &check);

    const recipe_entry *find(const std::string &id) const;
    const std::vector<recipe_entry> &recipes() const { return recipes_; }
    const std::vector<recipe_problem> &problems() const { return problems_; }
    const std::string &default_id() const { return default_id_; }

    // GET /api/omni/recipes body.
    nlohmann::json to_json() const;

private:
    std::vector<recipe_entry> recipes_;
    std::vector<recipe_problem> problems_;
    std::string default_id_;
};

// GET /api/omni/models body: the static catalogue (recipes/catalog/models.json: the playground's model list)
// plus every recipe model not already in it, per model_type; the default recipe's model first.
nlohmann::json build_model_list(const recipe_catalog &recipes, const std::string &catalog_file,
                                std::vector<std::string> &problems);

} // namespace omnihost
