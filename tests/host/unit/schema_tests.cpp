// Field schemas: the messages name the field; manifest parameters overlay the built-ins.
#include <doctest/doctest.h>

#include "api/request_schemas.h"
#include "api/start_planner.h"
#include "plugin_loader/manifest.h"

using namespace omnihost;

TEST_SUITE("schema") {

namespace {

// A video plugin's manifest parameters, as a drop-in plugin would write them.
const nlohmann::json &video_parameters() {
    static const nlohmann::json params = nlohmann::json::parse(R"({
        "video": {
            "prompt": {"type": "string", "required": true},
            "negative_prompt": {"type": "string", "max_length": 100},
            "height": {"type": "integer", "min": 16, "max": 2048, "multiple_of": 16, "default": 480},
            "width": {"type": "integer", "min": 16, "max": 2048, "multiple_of": 16, "default": 640},
            "duration": {"type": "number", "min": 0.0625, "max": 30, "default": 4},
            "fps": {"type": "integer", "min": 1, "max": 60, "default": 16},
            "num_inference_steps": {"alias": "steps", "type": "integer", "min": 1, "max": 1000, "default": 30},
            "guidance_scale": {"alias": ["guidance", "cfg"], "type": "number", "min": 0, "max": 50, "default": 4.0},
            "sampler": {"type": "string", "enum": ["euler", "unipc"], "default": "unipc"},
            "watermark": {"type": "string", "operator": true, "default": "mark"}
        },
        "start": {
            "device": {"type": "string", "format": "device", "default": "auto"},
            "endpoint": {"type": "string", "format": "url"},
            "gpus": {"type": "string", "format": "gpu_list"},
            "note": {"type": "string", "format": "no_control"},
            "offload": {"type": "boolean", "default": true}
        }})");
    return params;
}

field_schema video_schema() { return task_schema(task_kind::Video, video_parameters()); }

} // namespace

TEST_CASE("a task's schema is the wire fields plus the manifest: defaults fill, mistakes are named") {
    nlohmann::json body = {{"prompt", "a cat"}};
    CHECK_FALSE(validate_object(body, video_schema(), true));
    CHECK(body["fps"] == 16);
    CHECK(body["duration"] == 4);
    CHECK(body["guidance_scale"] == 4.0);
    CHECK(body["sampler"] == "unipc");

    auto error_for = [](nlohmann::json b) {
        auto error = validate_object(b, video_schema(), true);
        return error ? error->field + "|" + error->message : std::string();
    };
    CHECK(error_for({{"prompt", "   "}}) == "prompt|prompt: must not be empty");
    CHECK(error_for(nlohmann::json::object()) == "prompt|prompt: is required");
    CHECK(error_for({{"prompt", "x"}, {"fps", "16"}}) == "fps|fps: must be an integer (got string)");
    CHECK(error_for({{"prompt", "x"}, {"fps", 0}}) == "fps|fps: must be between 1 and 60 (got 0)");
    CHECK(error_for({{"prompt", "x"}, {"height", 16.5}}) == "height|height: must be an integer (got number)");
    CHECK(error_for({{"prompt", "x"}, {"height", 50}}) == "height|height: must be a multiple of 16 (got 50)");
    CHECK(error_for({{"prompt", "x"}, {"sampler", "ddim"}}) == "sampler|sampler: 'ddim' is not one of euler, unipc");
    CHECK(error_for({{"prompt", "x"}, {"negative_prompt", std::string(101, 'n')}}) ==
          "negative_prompt|negative_prompt: length must be at most 100 bytes (got 101)");
    CHECK(error_for({{"prompt", "x"}, {"seed", -1}}).rfind("seed|", 0) == 0);
    CHECK(error_for({{"prompt", "x"}, {"job_id", "a b"}}) == "job_id|job_id: must match [A-Za-z0-9_-]{1,64}");
    CHECK(error_for({{"prompt", "x"}, {"colour", 1}}) == "colour|colour: unknown field");
    // null means "not given": a required field given as null is missing, not mistyped.
    CHECK(error_for({{"prompt", nullptr}}) == "prompt|prompt: is required");
}

TEST_CASE("without a manifest only the host's wire fields exist (no built-in parameter table)") {
    nlohmann::json body = {{"prompt", "x"}, {"num_inference_steps", 4}};
    auto error = validate_object(body, task_schema(task_kind::Video, nlohmann::json::object()), true);
    REQUIRE(error);
    CHECK(error->message == "num_inference_steps: unknown field");
    for (task_kind task : {task_kind::Image, task_kind::Video, task_kind::Audio, task_kind::Tts, task_kind::Chat})
        for (const auto &[name, spec] : generation_schema(task)) {
            CAPTURE(name);
            CHECK((name == "prompt" || name == "text" || name == "messages" || name == "seed" || name == "job_id"));
        }
    for (const auto &[name, spec] : start_schema()) {
        CAPTURE(name);
        CHECK((name == "recipe" || name == "model" || name == "model_type" || name == "run_mode"));
    }
}

TEST_CASE("aliases: a request may use them, not beside the field; operator-only holds under an alias") {
    nlohmann::json body = {{"prompt", "x"}, {"steps", 7}, {"cfg", 2.5}};
    REQUIRE_FALSE(validate_object(body, video_schema(), true));
    CHECK(body["num_inference_steps"] == 7);
    CHECK(body["guidance_scale"] == 2.5);
    CHECK_FALSE(body.contains("steps"));
    nlohmann::json both = {{"prompt", "x"}, {"steps", 7}, {"num_inference_steps", 8}};
    auto error = validate_object(both, video_schema(), true);
    REQUIRE(error);
    CHECK(error->field == "steps");
    CHECK(error->message == "steps: is another name for num_inference_steps, which is also given");
    nlohmann::json range = {{"prompt", "x"}, {"steps", 0}};
    error = validate_object(range, video_schema(), true);
    REQUIRE(error);
    CHECK(error->message == "num_inference_steps: must be between 1 and 1000 (got 0)");

    std::string problem;
    auto spec = spec_from_manifest({{"type", "string"}, {"operator", true}, {"alias", "wm"}}, problem);
    REQUIRE(spec);
    auto refused = check_operator_only({{"wm", "mine"}}, {{"watermark", *spec}});
    REQUIRE(refused);
    CHECK(refused->field == "wm");
}

TEST_CASE("start settings: the host's routing fields plus the manifest's start scope, formats checked") {
    const field_schema start = start_schema_for(video_parameters());
    auto error_for = [&](nlohmann::json b) {
        auto error = validate_object(b, start, true);
        return error ? error->field + "|" + error->message : std::string();
    };
    CHECK(error_for({{"model", "a/b"}, {"device", "cuda:1"}, {"endpoint", "https://x:1"}, {"gpus", "0,1"}}).empty());
    CHECK(error_for({{"device", "gpu"}}) == "device|device: must be cpu, cuda, cuda:N or auto");
    CHECK(error_for({{"endpoint", "ftp://x"}}) == "endpoint|endpoint: must start with http:// or https://");
    CHECK(error_for({{"endpoint", "http://x y"}}) == "endpoint|endpoint: must not contain spaces or quotes");
    CHECK(error_for({{"gpus", "0;1"}}) == "gpus|gpus: must be GPU indices like \"0\" or \"0,1\"");
    CHECK(error_for({{"note", "a\nb"}}) == "note|note: must not contain control characters");
    CHECK(error_for({{"model", "a b"}}).rfind("model|model: must be a hub id", 0) == 0);
    CHECK(error_for({{"tensor_parallel_size", 2}}) == "tensor_parallel_size|tensor_parallel_size: unknown field");
    nlohmann::json filled = {{"model", "a/b"}};
    REQUIRE_FALSE(validate_object(filled, start, true));
    CHECK(filled["device"] == "auto");
    CHECK(filled["offload"] == true);
    std::string problem;
    CHECK_FALSE(spec_from_manifest({{"type", "string"}, {"format", "email"}}, problem));
    CHECK(problem == "'format' must be one of url, device, gpu_list, no_control");
}

TEST_CASE("manifest parameters add knobs; restated wire fields keep the host's type") {
    const auto params = nlohmann::json::parse(R"({
        "num_inference_steps": {"type": "integer", "min": 1, "max": 50, "default": 2},
        "duration": {"type": "number", "min": 0.05, "max": 10},
        "test_steps": {"type": "integer", "min": 1, "max": 9, "default": 2},
        "broken": {"type": "integer", "min": "low"}})");
    std::vector<std::string> problems;
    const field_schema schema = overlay_manifest_parameters(generation_schema(task_kind::Video), params, &problems);
    CHECK(problems.size() == 1);
    CHECK(schema.at("num_inference_steps").max == 50);
    CHECK(schema.at("duration").kind == field_kind::Number);
    // A wire field the manifest restates keeps the host's type and takes the plugin's range.
    const field_schema narrowed = overlay_manifest_parameters(generation_schema(task_kind::Video),
                                                        {{"seed", {{"type", "string"}, {"min", 5}, {"max", 9}}}});
    CHECK(narrowed.at("seed").kind == field_kind::Integer);
    CHECK(narrowed.at("seed").max == 9);
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
    const field_schema schema = overlay_manifest_parameters(generation_schema(task_kind::Video), params);
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
    CHECK(std::string(task_model_type(task_kind::Chat)) == "omni");
}


TEST_CASE("null means not given: defaults replace it, fields without a default disappear") {
    nlohmann::json body = {{"prompt", "a cat"}, {"fps", nullptr}, {"seed", nullptr}, {"negative_prompt", nullptr}};
    REQUIRE_FALSE(validate_object(body, video_schema(), true));
    CHECK(body["fps"] == 16);            // the default, not null
    CHECK_FALSE(body.contains("seed"));  // no default: gone, so nobody reads null as a value
    CHECK_FALSE(body.contains("negative_prompt"));
    // Without filling, null is accepted and left for a later layer (recipe defaults) to fill.
    nlohmann::json raw = {{"prompt", "x"}, {"fps", nullptr}};
    CHECK_FALSE(validate_object(raw, video_schema(), false));
    CHECK(raw["fps"].is_null());
    // A manifest field that says nullable:false is still "not given" when null.
    std::string error;
    auto spec = spec_from_manifest({{"type", "integer"}, {"nullable", false}, {"default", 3}}, error);
    REQUIRE(spec);
    field_schema schema = {{"knob", *spec}};
    nlohmann::json with_null = {{"knob", nullptr}};
    CHECK_FALSE(validate_object(with_null, schema, true));
    CHECK(with_null["knob"] == 3);
}

TEST_CASE("wire fields are checked without a plugin (before readiness)") {
    auto error_for = [](nlohmann::json body, task_kind task) {
        auto error = check_wire_fields(body, task);
        return error ? error->field + "|" + error->message : std::string();
    };
    CHECK(error_for({{"messages", "hi"}}, task_kind::Chat) == "messages|messages: must be an array (got string)");
    CHECK(error_for(nlohmann::json::object(), task_kind::Chat) == "messages|messages: is required");
    CHECK(error_for({{"messages", nlohmann::json::array({{{"role", "robot"}, {"content", "x"}}})}}, task_kind::Chat)
              .rfind("messages|messages[0].role", 0) == 0);
    CHECK(error_for({{"prompt", nullptr}}, task_kind::Video) == "prompt|prompt: is required");
    CHECK(error_for({{"text", 5}}, task_kind::Audio) == "text|text: must be a string (got integer)");
    CHECK(error_for({{"prompt", "x"}, {"seed", -1}}, task_kind::Image).rfind("seed|", 0) == 0);
    CHECK(error_for({{"prompt", "x"}, {"task", "audio"}}, task_kind::Video) == "task|task: this endpoint serves task 'video'");
    // Plugin-owned fields are not judged here (a manifest may widen them).
    CHECK(error_for({{"prompt", "x"}, {"guidance_scale", 45}, {"my_knob", 1}}, task_kind::Video).empty());
    CHECK(error_for({{"prompt", "x"}, {"seed", nullptr}, {"job_id", nullptr}, {"task", nullptr}}, task_kind::Video).empty());
}

TEST_CASE("a recipe's defaults are sorted by the manifest under the plugin's names") {
    const nlohmann::json defaults = {{"steps", 4}, {"guidance", 3.0}, {"fps", 8}, {"device", "cpu"}, {"offload", false},
                                     {"gpu_memory_utilization", 0.5}};
    const recipe_defaults split = split_recipe_defaults(defaults, task_kind::Video, video_parameters());
    CHECK(split.generation == nlohmann::json({{"num_inference_steps", 4}, {"guidance_scale", 3.0}, {"fps", 8}}));
    CHECK(split.start == nlohmann::json({{"device", "cpu"}, {"offload", false}}));
    CHECK(split.foreign == std::vector<std::string>{"gpu_memory_utilization"});
    CHECK(split.source.at("steps") == "num_inference_steps");
    const nlohmann::json params = {{"sharpness_knob", {{"type", "integer"}, {"alias", "sharp"}}},
                                   {"strength", {{"type", "number"}, {"alias", {"s", "str"}}}}};
    CHECK(request_field_for_default(task_kind::Image, "sharp", params) == "sharpness_knob");
    CHECK(request_field_for_default(task_kind::Image, "str", params) == "strength");
    CHECK(request_field_for_default(task_kind::Image, "strength", params) == "strength");
    CHECK(request_field_for_default(task_kind::Image, "steps", params) == "steps"); // no built-in mapping any more
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
        } catch (const plugin_loader::loader_error &e) {
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
    CHECK(field_of({{"type", "string"}, {"format", "url"}, {"group", "Server"}, {"choices", {"a", {{"value", "b"}, {"label", "B"}}}}}) == "");
    CHECK(field_of({{"type", "string"}, {"format", "email"}}) == "parameters.image.knob.format");
    CHECK(field_of({{"type", "integer"}, {"format", "url"}}) == "parameters.image.knob.format");
    CHECK(field_of({{"type", "string"}, {"choices", {{{"label", "no value"}}}}}) == "parameters.image.knob.choices");
    CHECK(field_of({{"type", "string"}, {"group", 3}}) == "parameters.image.knob.group");
}

TEST_CASE("operator-only fields: refused from a client, filled from the manifest, and a filled body stays valid") {
    std::string error;
    auto spec = spec_from_manifest({{"type", "string"}, {"operator", true}, {"default", "d"}}, error);
    REQUIRE(spec);
    const field_schema schema = {{"mark", *spec}};
    auto refused = check_operator_only({{"mark", "mine"}}, schema);
    REQUIRE(refused);
    CHECK(refused->message == "mark: is set by the operator only, not by a request");
    CHECK_FALSE(check_operator_only({{"mark", nullptr}}, schema));
    nlohmann::json body = nlohmann::json::object();
    REQUIRE_FALSE(validate_object(body, schema, true));
    CHECK(body["mark"] == "d");
    CHECK_FALSE(validate_object(body, schema, false)); // the fuzz target's invariant
}

TEST_CASE("the shipped proxies' start settings live in their manifests") {
    auto start_of = [](const std::string &id) {
        const auto manifest = plugin_loader::parse_manifest_file(std::string(OMNIHOST_RECIPE_DIR) + "/../plugins/" + id + "/" + id + ".plugin.json");
        return start_schema_for(manifest.parameters);
    };
    // Remote: the URL is required and must be http(s); nothing of a local server is accepted.
    const field_schema remote = start_of("remote_proxy");
    nlohmann::json body = {{"model", "a/b"}};
    auto error = validate_object(body, remote, true);
    REQUIRE(error);
    CHECK(error->message == "remote_url: is required");
    body = {{"model", "a/b"}, {"remote_url", "ftp://x"}};
    CHECK(validate_object(body, remote, true)->field == "remote_url");
    body = {{"model", "a/b"}, {"remote_url", "http://gpu:8000"}, {"port", 8000}};
    CHECK(validate_object(body, remote, true)->message == "port: unknown field");
    // Subprocess: vLLM's settings with vLLM's default port; container adds the accelerator.
    const field_schema subprocess = start_of("subprocess_proxy");
    body = {{"model", "a/b"}};
    REQUIRE_FALSE(validate_object(body, subprocess, true));
    CHECK(body["port"] == 8000);
    CHECK(body["gpu_memory_utilization"] == 0.9);
    body = {{"model", "a/b"}, {"gpu_device", "0;1"}};
    CHECK(validate_object(body, subprocess, true)->field == "gpu_device");
    body = {{"model", "a/b"}, {"accelerator", "nvidia"}};
    CHECK(validate_object(body, subprocess, true)->message == "accelerator: unknown field");
    body = {{"model", "a/b"}, {"accelerator", "intel"}};
    CHECK(validate_object(body, start_of("container_proxy"), true)->message == "accelerator: 'intel' is not one of nvidia, amd");
}

} // TEST_SUITE
