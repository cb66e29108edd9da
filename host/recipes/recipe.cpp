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

FieldSpec nullable_of(FieldKind kind) {
    FieldSpec spec;
    spec.kind = kind;
    spec.nullable = true;
    return spec;
}

// Fields allowed in a recipe's "hints" (presentation for the UI, not parameters).
const Schema &recipe_hints_schema() {
    static const Schema schema = [] {
        auto text = [](double max_bytes) {
            FieldSpec spec = nullable_of(FieldKind::String);
            spec.max = max_bytes;
            return spec;
        };
        FieldSpec size_multiple = nullable_of(FieldKind::Integer);
        size_multiple.min = 1;
        size_multiple.max = 256;
        return Schema{{"container_limitation", text(256)},
                      {"requires_hf_token", nullable_of(FieldKind::Boolean)},
                      {"vram", text(64)},
                      {"note", text(2000)},
                      {"supports_image_edit", nullable_of(FieldKind::Boolean)},
                      // Heights and widths this model accepts are multiples of it (the UI offers only those).
                      {"size_multiple", size_multiple}};
    }();
    return schema;
}

const Schema &top_level_schema() {
    static const Schema schema = [] {
        FieldSpec id;
        id.kind = FieldKind::String;
        id.required = true;
        id.check = check_recipe_id;
        FieldSpec required_text;
        required_text.kind = FieldKind::String;
        required_text.required = true;
        required_text.non_blank = true;
        required_text.max = 1024;
        FieldSpec optional_text;
        optional_text.kind = FieldKind::String;
        optional_text.max = 4000;
        FieldSpec model_type = required_text;
        model_type.allowed = {"video", "audio", "image", "tts", "omni"};
        FieldSpec run_mode = optional_text;
        run_mode.allowed = {"subprocess", "container", "remote"};
        FieldSpec model_root = optional_text;
        model_root.allowed = {"data_dir"};
        FieldSpec object;
        object.kind = FieldKind::Object;
        FieldSpec tags;
        tags.kind = FieldKind::Array;
        tags.max = 32;
        return Schema{{"id", id},
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

bool fail(RecipeProblem &problem, const std::string &file, const std::string &field,
          const std::string &message) {
    problem.file = file;
    problem.field = field;
    problem.message = file + ": " + message;
    return false;
}

} // namespace

nlohmann::json Recipe::to_json() const {
    nlohmann::json out = {{"id", id},           {"name", name},     {"description", description},
                          {"model", model},     {"model_type", model_type},
                          {"run_mode", run_mode}, {"defaults", defaults}, {"hints", hints}};
    if (!model_root.empty()) out["model_root"] = model_root;
    out["hints"]["container_limitation"] = hints.value("container_limitation", nlohmann::json(nullptr));
    out["hints"]["requires_hf_token"] = hints.value("requires_hf_token", false);
    return out;
}

std::optional<Recipe> parse_recipe(const nlohmann::json &document, const std::string &file_name,
                                   RecipeProblem &problem) {
    nlohmann::json doc = document;
    if (auto error = validate_object(doc, top_level_schema(), false)) {
        fail(problem, file_name, error->field, error->message);
        return std::nullopt;
    }
    Recipe recipe;
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
