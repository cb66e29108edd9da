#include "api/recipe_manifest_check.h"

#include "api/request_schemas.h"

namespace omnihost {

std::optional<field_error> check_recipe_against_manifest(const recipe_entry &recipe, const plugin_loader::registry &plugins) {
    const plugin_loader::route_result route = plugins.route(recipe.model_type, recipe.run_mode);
    if (!route) return std::nullopt;
    return check_recipe_defaults(recipe, route.plugin->manifest);
}

std::optional<field_error> check_recipe_defaults(const recipe_entry &recipe, const plugin_loader::plugin_manifest &manifest) {
    const std::string &plugin_id = manifest.id;
    const nlohmann::json &parameters = manifest.parameters;
    const task_kind task = task_for_model_type(recipe.model_type);
    const recipe_defaults split = split_recipe_defaults(recipe.defaults, task, parameters);
    const field_schema generation = task_schema(task, parameters);
    const field_schema start = start_schema_for(parameters);
    for (const auto &[key, value] : recipe.defaults.items()) {
        if (value.is_null()) continue;
        const std::string field = "defaults." + key;
        auto it = split.source.find(key);
        if (it == split.source.end())
            return field_error{field, field + ": is not a parameter of plugin " + plugin_id + " (its manifest declares no '" +
                                         key + "' for " + task_name(task) + " or start)"};
        const field_schema &schema = split.generation.contains(it->second) ? generation : start;
        if (auto spec = schema.find(it->second); spec != schema.end())
            if (auto error = validate_value(value, spec->second, field)) return error;
    }
    return std::nullopt;
}

} // namespace omnihost
