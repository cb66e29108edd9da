#include "recipes/recipe.h"

#include "core/field_schema.h"

namespace omnihost {
namespace {

std::string check_recipe_id(const std::string &value) {
    if (value.empty() || value.size() > 64) return "must match [a-z0-9][a-z0-9._-]{0,63}";
    for (size_t i = 0; i < value.size(); ++i) {
        const char c = value[i];
        const bool alnum = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
        if (!(alnum || (i > 0 && (c == '.' || c == '_' || c == '-'))))
            return "must match [a-z0-9][a-z0-9._-]{0,63}";
    }
    return "";
}

field_spec nullable_of(field_kind kind) {
    field_spec spec;
    spec.kind = kind;
    spec.nullable = true;
    return spec;
}

// Fields allowed in a recipe's "hints" (presentation for the UI, not parameters).
const field_schema &recipe_hints_schema() {
    static const field_schema schema = [] {
        auto text = [](double max_bytes) {
            field_spec spec = nullable_of(field_kind::String);
            spec.max = max_bytes;
            return spec;
        };
        field_spec size_multiple = nullable_of(field_kind::Integer);
        size_multiple.min = 1;
        size_multiple.max = 256;
        return field_schema{{"container_limitation", text(256)},
                      {"requires_hf_token", nullable_of(field_kind::Boolean)},
                      {"vram", text(64)},
                      {"note", text(2000)},
                      {"supports_image_edit", nullable_of(field_kind::Boolean)},
                      // Heights and widths this model accepts are multiples of it (the UI offers only those).
                      {"size_multiple", size_multiple}};
    }();
    return schema;
}

const field_schema &top_level_schema() {
    static const field_schema schema = [] {
        field_spec id;
        id.kind = field_kind::String;
        id.required = true;
        id.check = check_recipe_id;
        field_spec required_text;
        required_text.kind = field_kind::String;
        required_text.required = true;
        required_text.non_blank = true;
        required_text.max = 1024;
        field_spec optional_text;
        optional_text.kind = field_kind::String;
        optional_text.max = 4000;
        field_spec model_type = required_text;
        model_type.allowed = {"video", "audio", "image", "tts", "omni"};
        field_spec run_mode = optional_text;
        run_mode.allowed = {"subprocess", "container", "remote"};
        field_spec model_root = optional_text;
        model_root.allowed = {"data_dir"};
        field_spec object;
        object.kind = field_kind::Object;
        field_spec tags;
        tags.kind = field_kind::Array;
        tags.max = 32;
        return field_schema{{"id", id},
                      {"name", required_text},
                      {"description", optional_text},
                      {"model", required_text},
                      {"model_root", model_root},
                      {"model_type", model_type},
                      {"run_mode", run_mode},
                      {"defaults", object},
                      {"hints", object},
                      {"tags", tags}};
    }();
    return schema;
}

bool fail(recipe_problem &problem, const std::string &file, const std::string &field,
          const std::string &message) {
    problem.file = file;
    problem.field = field;
    problem.message = file + ": " + message;
    return false;
}

} // namespace

nlohmann::json recipe_entry::to_json() const {
    nlohmann::json out = {{"id", id},           {"name", name},     {"description", description},
                          {"model", model},     {"model_type", model_type},
                          {"run_mode", run_mode}, {"defaults", defaults}, {"hints", hints}};
    if (!model_root.empty()) out["model_root"] = model_root;
    out["hints"]["container_limitation"] = hints.value("container_limitation", nlohmann::json(nullptr));
    out["hints"]["requires_hf_token"] = hints.value("requires_hf_token", false);
    return out;
}

std::optional<recipe_entry> parse_recipe(const nlohmann::json &document, const std::string &file_name,
                                   recipe_problem &problem) {
    nlohmann::json doc = document;
    if (auto error = validate_object(doc, top_level_schema(), false)) {
        fail(problem, file_name, error->field, error->message);
        return std::nullopt;
    }
    recipe_entry recipe;
    recipe.file = file_name;
    recipe.id = doc["id"].get<std::string>();
    if (file_name != recipe.id + ".json") {
        fail(problem, file_name, "id",
             "id: '" + recipe.id + "' does not match the file name (expected " + recipe.id + ".json)");
        return std::nullopt;
    }
    recipe.name = doc["name"].get<std::string>();
    recipe.description = doc.value("description", std::string());
    recipe.model = doc["model"].get<std::string>();
    recipe.model_root = doc.value("model_root", std::string());
    recipe.model_type = doc["model_type"].get<std::string>();
    recipe.run_mode = doc.value("run_mode", std::string("subprocess"));
    if (recipe.model_root == "data_dir" &&
        (recipe.model.front() == '/' || recipe.model.find("..") != std::string::npos)) {
        fail(problem, file_name, "model",
             "model: with model_root \"data_dir\" the model must be a relative path without '..'");
        return std::nullopt;
    }
    // What the defaults may hold is the serving plugin's manifest's to say: they are judged by it
    // once the plugins are known (api/recipe_manifest_check). Here only their shape.
    if (doc.contains("defaults")) {
        recipe.defaults = doc["defaults"];
        for (const auto &[key, value] : recipe.defaults.items()) {
            if (key.empty() || key.size() > 64 || value.is_object()) {
                fail(problem, file_name, "defaults." + key,
                     "defaults." + key + ": must be a parameter name (1-64 bytes) with a value that is not an object");
                return std::nullopt;
            }
        }
    }
    if (doc.contains("hints")) {
        recipe.hints = doc["hints"];
        if (auto error = validate_object(recipe.hints, recipe_hints_schema(), false, "hints.")) {
            fail(problem, file_name, error->field, error->message);
            return std::nullopt;
        }
    }
    // A model that needs sizes in steps of N (Wan2.2 TI2V-5B: 32) cannot run the recipe's own
    // resolution unless it is such a multiple; say so when the recipe loads, not at generate.
    if (recipe.hints.contains("size_multiple")) {
        const long long multiple = recipe.hints["size_multiple"].get<long long>();
        for (const char *key : {"height", "width"}) {
            if (!recipe.defaults.contains(key) || !recipe.defaults[key].is_number_integer()) continue;
            const long long value = recipe.defaults[key].get<long long>();
            if (value % multiple != 0) {
                fail(problem, file_name, std::string("defaults.") + key,
                     std::string("defaults.") + key + ": must be a multiple of " + std::to_string(multiple) +
                         " for this model (hints.size_multiple; got " + std::to_string(value) + ")");
                return std::nullopt;
            }
        }
    }
    if (doc.contains("tags")) {
        for (const auto &tag : doc["tags"])
            if (!tag.is_string()) {
                fail(problem, file_name, "tags", "tags: must be an array of strings");
                return std::nullopt;
            }
    }
    return recipe;
}

} // namespace omnihost
