#include "api/recipe_manifest_check.h"

#include "api/request_schemas.h"

namespace omnihost {
namespace {

Task task_of(const std::string &model_type) {
    if (model_type == "video") return Task::Video;
    if (model_type == "audio") return Task::Audio;
    if (model_type == "tts") return Task::Tts;
    if (model_type == "omni") return Task::Chat;
    return Task::Image;
}

} // namespace

std::optional<FieldError> check_recipe_against_manifest(const Recipe &recipe, const plugin_loader::registry &plugins) {
    const plugin_loader::route_result route = plugins.route(recipe.model_type, recipe.run_mode);
    if (!route) return std::nullopt;
    const nlohmann::json &parameters = route.plugin->manifest.parameters;
    const Task task = task_of(recipe.model_type);
    const std::string name = task_name(task);
    const nlohmann::json empty = nlohmann::json::object();
    Schema generation = overlay_manifest_parameters(generation_schema(task), parameters.value("*", empty));
    generation = overlay_manifest_parameters(generation, parameters.value(name, empty));
    const Schema start = overlay_manifest_parameters(start_schema(), parameters.value("start", empty));
    for (const auto &[key, value] : recipe.defaults.items()) {
        if (value.is_null()) continue;
        const std::string field = "defaults." + key;
        if (is_load_setting(key)) {
            if (auto it = start.find(key); it != start.end())
                if (auto error = validate_value(value, it->second, field)) return error;
            continue;
        }
        const std::string request_field = request_field_for_default(task, key, parameters.value(name, empty));
        if (auto it = generation.find(request_field); it != generation.end())
            if (auto error = validate_value(value, it->second, field)) return error;
    }
    return std::nullopt;
}

} // namespace omnihost
