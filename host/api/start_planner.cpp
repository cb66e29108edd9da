#include "api/start_planner.h"

#include <algorithm>
#include <filesystem>

#include "api/operator_limits.h"
#include "api/remote_targets.h"
#include "api/request_schemas.h"

namespace omnihost {
namespace {

namespace pl = plugin_loader;

plan_outcome failure(int status, std::string message, std::string field) {
    plan_outcome outcome;
    outcome.error = {status, std::move(message), std::move(field)};
    return outcome;
}

bool is_secret_key(std::string key) {
    std::transform(key.begin(), key.end(), key.begin(), ::tolower);
    for (const char *word : {"token", "api_key", "apikey", "secret", "password"})
        if (key.find(word) != std::string::npos) return true;
    return false;
}

// A refusal text that comes from a manifest's "refuses" (-> 400 naming run_mode) versus a plugin
// that exists but failed to load (-> 503) versus nothing serving the pair (-> 400).
plan_outcome routing_failure(const pl::registry &plugins, const std::string &model_type,
                            const std::string &run_mode, const std::string &refusal) {
    for (const auto &record : plugins.plugins()) {
        if (record.manifest.refusal_for(model_type, run_mode))
            return failure(400, "run_mode: " + refusal, "run_mode");
    }
    for (const auto &record : plugins.plugins()) {
        if (!record.available && record.manifest.serves(model_type, run_mode))
            return failure(503, refusal, "");
    }
    return failure(400, "run_mode: " + refusal, "run_mode");
}

} // namespace

std::vector<std::string> secret_values(const nlohmann::json &start_json) {
    std::vector<std::string> out;
    for (const char *key : {"hf_token", "remote_api_key"}) {
        if (start_json.contains(key) && start_json[key].is_string()) {
            const auto &value = start_json[key].get_ref<const std::string &>();
            if (value.size() >= 1) out.push_back(value);
        }
    }
    return out;
}

namespace {

bool contains_secret(const std::string &text, const std::vector<std::string> &secrets) {
    for (const auto &secret : secrets)
        if (!secret.empty() && text.find(secret) != std::string::npos) return true;
    return false;
}

// Every byte of `text` covered by an occurrence of a secret (overlapping ones too, all found in
// the original text) becomes part of one "***" per covered run. Replacing in place and searching
// on would miss what a replacement hides or creates: a secret with '*' in it can be spelled
// again by the mask and its neighbours ("x**" in "xx**" -> "x***"). When that happens the whole
// string is masked, with a mask that spells no secret ("*" or "**" would be in "***").
std::string redact_text(const std::string &text, const std::vector<std::string> &secrets) {
    std::vector<bool> covered(text.size(), false);
    bool any = false;
    for (const auto &secret : secrets) {
        if (secret.empty()) continue;
        for (size_t at = text.find(secret); at != std::string::npos; at = text.find(secret, at + 1)) {
            std::fill(covered.begin() + static_cast<std::ptrdiff_t>(at),
                      covered.begin() + static_cast<std::ptrdiff_t>(at + secret.size()), true);
            any = true;
        }
    }
    if (!any) return text;
    std::string out;
    out.reserve(text.size());
    for (size_t i = 0; i < text.size(); ++i) {
        if (!covered[i]) out += text[i];
        else if (i == 0 || !covered[i - 1]) out += "***";
    }
    if (!contains_secret(out, secrets)) return out;
    for (const char *mask : {"***", "[redacted]"})
        if (!contains_secret(mask, secrets)) return mask;
    return "";
}

} // namespace

nlohmann::json redact(const nlohmann::json &value, const std::vector<std::string> &secrets) {
    if (value.is_string()) return redact_text(value.get_ref<const std::string &>(), secrets);
    if (value.is_array()) {
        nlohmann::json out = nlohmann::json::array();
        for (const auto &item : value) out.push_back(redact(item, secrets));
        return out;
    }
    if (value.is_object()) {
        nlohmann::json out = nlohmann::json::object();
        for (const auto &[key, item] : value.items()) {
            if (is_secret_key(key) && item.is_string() && !item.get<std::string>().empty())
                out[key] = "***";
            else
                out[key] = redact(item, secrets);
        }
        return out;
    }
    return value;
}

plan_outcome plan_start(const api_context &context, nlohmann::json body) {
    const field_schema &wire = start_schema();
    // 1. The recipe names the model and its route; its defaults are sorted once the plugin is known.
    const recipe_entry *recipe = nullptr;
    if (body.contains("recipe") && !body["recipe"].is_null()) {
        if (!body["recipe"].is_string())
            return failure(400, "recipe: must be a string (got " + json_type_name(body["recipe"]) + ")", "recipe");
        recipe = context.recipes.find(body["recipe"].get<std::string>());
        if (!recipe)
            return failure(400, "recipe: unknown recipe '" + body["recipe"].get<std::string>() + "'", "recipe");
    }
    nlohmann::json merged = nlohmann::json::object();
    bool model_from_recipe = false;
    if (recipe) {
        merged["model"] = recipe->model;
        merged["model_type"] = recipe->model_type;
        merged["run_mode"] = recipe->run_mode;
        // The UI sends the recipe's own model id along with the recipe id: that still counts as
        // "the recipe's model" (so a data_dir model gets resolved below).
        model_from_recipe = !body.contains("model") || body["model"].is_null() || body["model"] == recipe->model;
    }
    for (const char *key : {"model", "model_type", "run_mode"})
        if (body.contains(key) && !body[key].is_null()) merged[key] = body[key]; // null = "not given"
    // 2. The two routing fields first, so a bad one is named before anything else.
    for (const char *key : {"model_type", "run_mode"}) {
        if (!merged.contains(key) || merged[key].is_null()) {
            if (std::string(key) == "run_mode") continue; // defaulted below
            return failure(400, std::string(key) + ": is required (or give a recipe)", key);
        }
        if (auto error = validate_value(merged[key], wire.at(key), key))
            return failure(400, error->message, error->field);
    }
    if (!merged.contains("model") || merged["model"].is_null())
        return failure(400, "model: is required (or give a recipe)", "model");
    const std::string model_type = merged["model_type"].get<std::string>();
    const std::string run_mode = merged.value("run_mode", std::string("subprocess"));
    merged["run_mode"] = run_mode;

    // 3. Route by manifests.
    const pl::route_result route = context.plugins->route(model_type, run_mode);
    if (!route) return routing_failure(*context.plugins, model_type, run_mode, route.refusal);
    const pl::plugin_record &plugin = *route.plugin;
    const nlohmann::json &parameters = plugin.manifest.parameters;

    // 4. The recipe's defaults, under the plugin's names: start settings fill what the request
    // leaves out, generation defaults fill generate requests. A key the plugin does not declare
    // is not its setting (the recipe was judged when recipes loaded) and is left out.
    nlohmann::json generation_defaults = nlohmann::json::object();
    nlohmann::json recipe_start = nlohmann::json::object();
    if (recipe) {
        recipe_defaults split = split_recipe_defaults(recipe->defaults, task_for_model_type(model_type), parameters);
        for (const auto &[key, value] : split.start.items()) merged[key] = value;
        recipe_start = split.start;
        generation_defaults = std::move(split.generation);
    }
    for (const auto &[key, value] : body.items()) {
        if (key == "model" || key == "model_type" || key == "run_mode") continue;
        if (value.is_null() && merged.contains(key)) continue; // null = "not given"
        merged[key] = value;
    }

    // 5. Every field against the plugin's start parameters (the manifest is the only schema).
    std::vector<std::string> problems;
    const nlohmann::json start_parameters = parameters.value("start", nlohmann::json::object());
    const field_schema full = start_schema_for(parameters, &problems);
    if (auto error = check_operator_only(body, full)) return failure(400, error->message, error->field);
    if (auto error = validate_object(merged, full, true))
        return failure(400, error->message, error->field);
    // Limits the plugin takes at start (e.g. max_pixels): the operator's, or less if asked.
    if (auto error = apply_start_limits(merged, body, start_parameters, context.options.limits))
        return failure(error->status, error->message, error->field);
    // A server the plugin would connect to: the operator's (recipe or --remote-allow), never any a request names.
    if (auto error = check_remote_targets(body, recipe_start, start_parameters, context.options.remote_allow))
        return failure(error->status, error->message, error->field);

    // 6. The host's own port cannot also be a server's the plugin starts.
    const int port = merged.contains("port") && merged["port"].is_number_integer() ? merged["port"].get<int>() : 0;
    if (plugin.manifest.kind != "inprocess" && run_mode != "remote" && context.bound_port != 0 &&
        port == context.bound_port)
        return failure(400, "port: " + std::to_string(port) + " is the port omnihost itself listens on", "port");

    // 7. A recipe model that lives under --data-dir becomes an absolute path for the plugin; what
    // clients see (the start answer, status, /v1/models) stays the recipe's name, so the host's
    // file layout is not told to every caller.
    std::string public_model = merged["model"].get<std::string>();
    if (recipe && model_from_recipe && recipe->model_root == "data_dir") {
        std::error_code ec;
        auto path = std::filesystem::absolute(std::filesystem::path(context.options.data_dir) / recipe->model, ec);
        if (!ec) merged["model"] = path.lexically_normal().string();
    }
    if (recipe) merged["recipe"] = recipe->id;
    else merged.erase("recipe");

    start_plan plan;
    plan.plugin_id = plugin.manifest.id;
    plan.plugin_kind = plugin.manifest.kind;
    plan.plugin_tasks = plugin.manifest.tasks;
    plan.plugin_parameters = parameters;
    plan.model = public_model;
    plan.model_type = model_type;
    plan.run_mode = run_mode;
    plan.recipe_id = recipe ? recipe->id : "";
    plan.port = port;
    plan.start_json = merged;
    plan.generation_defaults = generation_defaults;
    plan_outcome outcome;
    outcome.plan = std::move(plan);
    return outcome;
}

} // namespace omnihost
