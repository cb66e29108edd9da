// Field schemas: the messages name the field; manifest parameters overlay the built-ins.
#include <doctest/doctest.h>

#include "api/request_schemas.h"
#include "api/start_planner.h"
#include "plugin_loader/manifest.h"

using namespace omnihost;

TEST_SUITE("schema") {

TEST_CASE("video request: defaults fill, mistakes are named") {
    nlohmann::json body = {{"prompt", "a cat"}};
    CHECK_FALSE(validate_object(body, generation_schema(Task::Video), true));
    CHECK(body["fps"] == 16);
    CHECK(body["duration"] == 4);
    CHECK(body["guidance_scale"] == 4.0);

    auto error_for = [](nlohmann::json b) {
        auto error = validate_object(b, generation_schema(Task::Video), true);
        return error ? error->field + "|" + error->message : std::string();
    };
    CHECK(error_for({{"prompt", "   "}}) == "prompt|prompt: must not be empty");
    CHECK(error_for(nlohmann::json::object()) == "prompt|prompt: is required");
    CHECK(error_for({{"prompt", "x"}, {"fps", "16"}}) == "fps|fps: must be an integer (got string)");
    CHECK(error_for({{"prompt", "x"}, {"fps", 0}}) == "fps|fps: must be between 1 and 60 (got 0)");
    CHECK(error_for({{"prompt", "x"}, {"height", 16.5}}) == "height|height: must be an integer (got number)");
    CHECK(error_for({{"prompt", "x"}, {"seed", -1}}).rfind("seed|", 0) == 0);
    CHECK(error_for({{"prompt", "x"}, {"job_id", "a b"}}) == "job_id|job_id: must match [A-Za-z0-9_-]{1,64}");
    CHECK(error_for({{"prompt", "x"}, {"colour", 1}}) == "colour|colour: unknown field");
    // null means "not given": a required field given as null is missing, not mistyped.
    CHECK(error_for({{"prompt", nullptr}}) == "prompt|prompt: is required");
}

TEST_CASE("manifest parameters tighten ranges, add knobs, keep built-in types") {
    const auto params = nlohmann::json::parse(R"({
        "num_inference_steps": {"type": "integer", "min": 1, "max": 50, "default": 2},
        "duration": {"type": "number", "min": 0.05, "max": 10},
        "test_steps": {"type": "integer", "min": 1, "max": 9, "default": 2},
        "broken": {"type": "integer", "min": "low"}})");
    std::vector<std::string> problems;
    const Schema schema = overlay_manifest_parameters(generation_schema(Task::Video), params, &problems);
    CHECK(problems.size() == 1);
    CHECK(schema.at("num_inference_steps").max == 50);
    CHECK(schema.at("duration").kind == FieldKind::Number); // a plugin may widen integer to number
    nlohmann::json body = {{"prompt", "x"}, {"num_inference_steps", 51}};
    auto error = validate_object(body, schema, true);
    REQUIRE(error);
    CHECK(error->message == "num_inference_steps: must be between 1 and 50 (got 51)");
    body = {{"prompt", "x"}, {"test_steps", 3}};
    CHECK_FALSE(validate_object(body, schema, true));
    CHECK(body["num_inference_steps"] == 2);
}

TEST_CASE("multiple_of from a manifest (latent-aligned sizes)") {
    const auto params = nlohmann::json::parse(R"({"height": {"type": "integer", "min": 16, "max": 2048, "multiple_of": 16}})");
    const Schema schema = overlay_manifest_parameters(generation_schema(Task::Video), params);
    nlohmann::json body = {{"prompt", "x"}, {"height", 50}};
    auto error = validate_object(body, schema, false);
    REQUIRE(error);
    CHECK(error->message == "height: must be a multiple of 16 (got 50)");
    body["height"] = 48;
    CHECK_FALSE(validate_object(body, schema, false));
}

TEST_CASE("redaction hides secrets everywhere") {
    const nlohmann::json start = {{"hf_token", "hf_SECRET"}, {"remote_api_key", "sk-xyz"}};
    const auto secrets = secret_values(start);
    const nlohmann::json preview = {
        {"command", "HF_TOKEN=hf_SECRET vllm serve m"},
        {"argv", {"-e", "HF_TOKEN=hf_SECRET"}},
        {"env", {{"HF_TOKEN", "hf_SECRET"}, {"OTHER", "1"}}},
        {"settings", {{"hf_token", "hf_SECRET"}, {"remote_api_key", "sk-xyz"}, {"port", 8000}}}};
    const std::string text = redact(preview, secrets).dump();
    CHECK(text.find("hf_SECRET") == std::string::npos);
    CHECK(text.find("sk-xyz") == std::string::npos);
    CHECK(text.find("***") != std::string::npos);
    CHECK(redact(preview, secrets)["env"]["OTHER"] == "1");
}

TEST_CASE("modality words") {
    CHECK(std::string(model_type_article("audio")) == "an audio");
    CHECK(std::string(task_model_type(Task::Chat)) == "omni");
}


TEST_CASE("null means not given: defaults replace it, fields without a default disappear") {
    nlohmann::json body = {{"prompt", "a cat"}, {"fps", nullptr}, {"seed", nullptr}, {"negative_prompt", nullptr}};
    REQUIRE_FALSE(validate_object(body, generation_schema(Task::Video), true));
    CHECK(body["fps"] == 16);            // the default, not null
    CHECK_FALSE(body.contains("seed"));  // no default: gone, so nobody reads null as a value
    CHECK_FALSE(body.contains("negative_prompt"));
    // Without filling, null is accepted and left for a later layer (recipe defaults) to fill.
    nlohmann::json raw = {{"prompt", "x"}, {"fps", nullptr}};
    CHECK_FALSE(validate_object(raw, generation_schema(Task::Video), false));
    CHECK(raw["fps"].is_null());
    // A manifest field that says nullable:false is still "not given" when null.
    std::string error;
    auto spec = spec_from_manifest({{"type", "integer"}, {"nullable", false}, {"default", 3}}, error);
    REQUIRE(spec);
    Schema schema = {{"knob", *spec}};
    nlohmann::json with_null = {{"knob", nullptr}};
    CHECK_FALSE(validate_object(with_null, schema, true));
    CHECK(with_null["knob"] == 3);
}

TEST_CASE("wire fields are checked without a plugin (before readiness)") {
    auto error_for = [](nlohmann::json body, Task task) {
        auto error = check_wire_fields(body, task);
        return error ? error->field + "|" + error->message : std::string();
    };
    CHECK(error_for({{"messages", "hi"}}, Task::Chat) == "messages|messages: must be an array (got string)");
    CHECK(error_for(nlohmann::json::object(), Task::Chat) == "messages|messages: is required");
    CHECK(error_for({{"messages", nlohmann::json::array({{{"role", "robot"}, {"content", "x"}}})}}, Task::Chat)
              .rfind("messages|messages[0].role", 0) == 0);
    CHECK(error_for({{"prompt", nullptr}}, Task::Video) == "prompt|prompt: is required");
    CHECK(error_for({{"text", 5}}, Task::Audio) == "text|text: must be a string (got integer)");
    CHECK(error_for({{"prompt", "x"}, {"seed", -1}}, Task::Image).rfind("seed|", 0) == 0);
    CHECK(error_for({{"prompt", "x"}, {"task", "audio"}}, Task::Video) == "task|task: this endpoint serves task 'video'");
    // Plugin-owned fields are not judged here (a manifest may widen them).
    CHECK(error_for({{"prompt", "x"}, {"guidance_scale", 45}, {"my_knob", 1}}, Task::Video).empty());
    CHECK(error_for({{"prompt", "x"}, {"seed", nullptr}, {"job_id", nullptr}, {"task", nullptr}}, Task::Video).empty());
}

TEST_CASE("a recipe default fills the field the manifest's alias names") {
    const nlohmann::json params = {{"sharpness_knob", {{"type", "integer"}, {"alias", "sharp"}}},
                                   {"strength", {{"type", "number"}, {"alias", {"s", "str"}}}}};
    CHECK(request_field_for_default(Task::Image, "sharp", params) == "sharpness_knob");
    CHECK(request_field_for_default(Task::Image, "str", params) == "strength");
    CHECK(request_field_for_default(Task::Image, "steps", params) == "num_inference_steps"); // built-in
    CHECK(request_field_for_default(Task::Audio, "duration", nlohmann::json::object()) == "audio_duration");
    CHECK(request_field_for_default(Task::Image, "strength", params) == "strength");
}

TEST_CASE("a manifest's field schemas are checked when it loads, naming the field") {
    auto field_of = [](const nlohmann::json &knob) {
        nlohmann::json manifest = {{"id", "m"}, {"name", "m"}, {"version", "1.0.0"}, {"abi", {{"major", 1}, {"minor", 0}}},
                                   {"library", "libm.so"}, {"kind", "inprocess"},
                                   {"routes", {{{"model_type", "image"}, {"run_mode", "subprocess"}}}},
                                   {"tasks", {"image"}}, {"parameters", {{"image", {{"knob", knob}}}}}};
        try {
            plugin_loader::parse_manifest_text(manifest.dump(), "m.plugin.json");
            return std::string();
        } catch (const plugin_loader::manifest_error &e) {
            return e.field;
        }
    };
    CHECK(field_of({{"type", "integer"}, {"min", 1}, {"max", 9}, {"step", 2}, {"default", 3}, {"alias", "k"},
                    {"label", "Knob"}, {"help", "h"}, {"operator", false}}) == "");
    CHECK(field_of({{"type", "integer"}, {"min", 1}, {"max", 9}, {"default", 12}}) == "parameters.image.knob.default");
    CHECK(field_of({{"type", "integer"}, {"default", "3"}}) == "parameters.image.knob.default");
    CHECK(field_of({{"type", "integer"}, {"step", 0}}) == "parameters.image.knob.step");
    CHECK(field_of({{"type", "string"}, {"step", 1}}) == "parameters.image.knob.step");
    CHECK(field_of({{"type", "integer"}, {"multiple_of", 16}, {"default", 20}}) == "parameters.image.knob.default");
    CHECK(field_of({{"type", "number"}, {"multiple_of", 2}}) == "parameters.image.knob.multiple_of");
    CHECK(field_of({{"type", "string"}, {"enum", {"a", "b"}}, {"default", "c"}}) == "parameters.image.knob.default");
    CHECK(field_of({{"type", "string"}, {"enum", {1, 2}}}) == "parameters.image.knob.enum");
    CHECK(field_of({{"type", "string"}, {"alias", 5}}) == "parameters.image.knob.alias");
    CHECK(field_of({{"type", "string"}, {"label", 5}}) == "parameters.image.knob.label");
    CHECK(field_of({{"type", "string"}, {"operator", "yes"}}) == "parameters.image.knob.operator");
}

TEST_CASE("operator-only fields: refused from a client, filled from the manifest, and a filled body stays valid") {
    std::string error;
    auto spec = spec_from_manifest({{"type", "string"}, {"operator", true}, {"default", "d"}}, error);
    REQUIRE(spec);
    const Schema schema = {{"mark", *spec}};
    auto refused = check_operator_only({{"mark", "mine"}}, schema);
    REQUIRE(refused);
    CHECK(refused->message == "mark: is set by the operator only, not by a request");
    CHECK_FALSE(check_operator_only({{"mark", nullptr}}, schema));
    nlohmann::json body = nlohmann::json::object();
    REQUIRE_FALSE(validate_object(body, schema, true));
    CHECK(body["mark"] == "d");
    CHECK_FALSE(validate_object(body, schema, false)); // the fuzz target's invariant
}

} // TEST_SUITE

