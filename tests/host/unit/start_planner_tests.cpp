// plan_start against the real test plugin's manifest: recipe merge sorted by the manifest,
// routing, start settings validated by the manifest alone, data_dir models.
#include <doctest/doctest.h>

#include "api/start_planner.h"
#include "api/remote_targets.h"
#include "core/remote_endpoint.h"

using namespace omnihost;

namespace {

struct planner {
    plugin_loader::registry plugins;
    api_context context;
    planner() {
        REQUIRE(plugins.scan_dir(TEST_PLUGIN_DIR));
        context.plugins = &plugins;
        context.options.data_dir = "/srv/omni-data";
        context.recipes.load(OMNIHOST_RECIPE_DIR, "demo-wan-tiny");
        context.bound_port = 8091;
    }
    plan_outcome plan(const nlohmann::json &body) { return plan_start(context, body); }
};

} // namespace

TEST_SUITE("planner") {

TEST_CASE("a recipe fills the start: model under data_dir, load settings, generation defaults apart") {
    planner p;
    const plan_outcome out = p.plan({{"recipe", "demo-wan-tiny"}});
    REQUIRE_MESSAGE(out.plan, out.error.message);
    const start_plan &plan = *out.plan;
    CHECK(plan.plugin_id == "test_plugin");
    CHECK(plan.model == "models/wan-tiny-demo"); // what clients are shown: no host path
    CHECK(plan.start_json["model"] == "/srv/omni-data/models/wan-tiny-demo");
    CHECK(plan.start_json["flow_shift"] == 3.0);       // load setting -> start JSON
    CHECK(plan.start_json["recipe"] == "demo-wan-tiny");
    CHECK_FALSE(plan.start_json.contains("fps"));      // generation default stays out of the start
    CHECK(plan.generation_defaults["fps"] == 8);
    CHECK(plan.start_json["test_load_ms"] == 0);       // the plugin's declared default
    // An explicit model overrides the recipe's and is taken as given.
    const plan_outcome custom = p.plan({{"recipe", "demo-wan-tiny"}, {"model", "my/other"}});
    REQUIRE(custom.plan);
    CHECK(custom.plan->model == "my/other");
}

TEST_CASE("start settings are the manifest's: declared ones validated and defaulted, others refused") {
    planner p;
    auto plan_of = [&](nlohmann::json body) {
        body["model"] = "a/b";
        body["model_type"] = "video";
        return p.plan(body);
    };
    const plan_outcome ok = plan_of({{"enable_torch_compile", true}, {"device", "cuda:0"}});
    REQUIRE_MESSAGE(ok.plan, ok.error.message);
    // No host rule derives one setting from another any more: the plugin reads what it declares.
    CHECK(ok.plan->start_json["enable_torch_compile"] == true);
    CHECK_FALSE(ok.plan->start_json.contains("enforce_eager"));
    CHECK(ok.plan->start_json["port"] == 8000); // the manifest's default
    auto error_of = [&](const nlohmann::json &body) {
        const plan_outcome out = plan_of(body);
        return out.plan ? std::string("ok") : out.error.field + "|" + out.error.message;
    };
    CHECK(error_of({{"default_height", 512}}) == "default_height|default_height: unknown field");
    CHECK(error_of({{"device", "tpu"}}) == "device|device: must be cpu, cuda, cuda:N or auto");
    CHECK(error_of({{"gpu_memory_utilization", 2}}) == "gpu_memory_utilization|gpu_memory_utilization: must be between 0.05 and 1 (got 2)");
    CHECK(error_of({{"dtype", "int4"}}).rfind("dtype|dtype: 'int4' is not one of", 0) == 0);
}

TEST_CASE("routing and cross-field refusals") {
    planner p;
    auto error_of = [&](const nlohmann::json &body) {
        const plan_outcome out = p.plan(body);
        return out.plan ? std::string("ok") : out.error.field + "|" + std::to_string(out.error.status);
    };
    CHECK(error_of({{"model", "a/b"}, {"model_type", "video"}, {"run_mode", "container"}}) == "run_mode|400");
    CHECK(error_of({{"model", "a/b"}, {"model_type", "audio"}, {"run_mode", "remote"}}) == "run_mode|400");
    // remote_url is the remote proxy's required start setting (its manifest); the test plugin
    // serves remote routes without one.
    CHECK(error_of({{"model", "a/b"}, {"model_type", "image"}, {"run_mode", "remote"}}) == "ok");
    CHECK(error_of({{"model", "a/b"}, {"model_type", "image"}, {"run_mode", "remote"}, {"remote_url", "ftp://x"}}) == "remote_url|400");
    // a request's remote_url must name a server of the operator's --remote-allow list (SSRF)
    CHECK(error_of({{"model", "a/b"}, {"model_type", "image"}, {"run_mode", "remote"}, {"remote_url", "https://x"}}) == "remote_url|403");
    p.context.options.remote_allow = {"x:443", "gpu:8000", "[::1]:8000"};
    CHECK(error_of({{"model", "a/b"}, {"model_type", "image"}, {"run_mode", "remote"}, {"remote_url", "https://x"}}) == "ok");
    CHECK(error_of({{"model", "a/b"}, {"model_type", "image"}, {"run_mode", "remote"}, {"remote_url", "http://x"}}) == "remote_url|403");
    CHECK(error_of({{"model", "a/b"}, {"model_type", "image"}, {"run_mode", "remote"}, {"remote_url", "http://GPU:8000/v1"}}) == "ok");
    CHECK(error_of({{"model", "a/b"}, {"model_type", "image"}, {"run_mode", "remote"}, {"remote_url", "http://[::1]:8000"}}) == "ok");
    CHECK(error_of({{"model", "a/b"}, {"model_type", "image"}, {"run_mode", "remote"}, {"remote_url", "http://gpu:8000@evil:8000"}}) == "remote_url|400");
    CHECK(error_of({{"model", "a/b"}, {"model_type", "image"}, {"run_mode", "remote"}, {"remote_url", "http://gpu%2e:8000"}}) == "remote_url|400");
    CHECK(error_of({{"model", "a/b"}, {"model_type", "image"}, {"run_mode", "container"}, {"port", 8091}}) == "ok"); // test plugin is in-process
    CHECK(error_of({{"model", "a/b"}, {"model_type", "video"}, {"test_load_steps", 0}}) == "test_load_steps|400");
    CHECK(error_of({{"recipe", "tts-base"}, {"model_type", "omni"}}) == "ok"); // the request's type wins
}

TEST_CASE("remote endpoints: the server a URL names, and the operator's list in the same form") {
    CHECK(remote_endpoint("http://gpu:8000/v1").value() == "gpu:8000");
    CHECK(remote_endpoint("http://Gpu.Example").value() == "gpu.example:80");
    CHECK(remote_endpoint("https://gpu.example/omni").value() == "gpu.example:443");
    CHECK(remote_endpoint("http://[::1]:8000").value() == "[::1]:8000");
    CHECK(remote_endpoint("http://gpu:8000\\@evil/").has_value() == false);
    std::string why;
    CHECK_FALSE(remote_endpoint("http://a@b:1", &why));
    CHECK(why.find("user info") != std::string::npos);
    CHECK_FALSE(remote_endpoint("http://b:99999"));
    CHECK_FALSE(remote_endpoint("http://:80"));
    CHECK_FALSE(remote_endpoint("ftp://b:21"));
    CHECK(normalize_remote_allow_item("GPU:8000").value() == "gpu:8000");
    CHECK(normalize_remote_allow_item("[::1]:8000").value() == "[::1]:8000");
    CHECK_FALSE(normalize_remote_allow_item("gpu"));
    CHECK_FALSE(normalize_remote_allow_item("[::1]"));
    CHECK_FALSE(normalize_remote_allow_item("http://gpu:8000"));
}

TEST_CASE("remote targets: a recipe's own URL is the operator's; a request's must be allowed") {
    const nlohmann::json params = {{"remote_url", {{"type", "string"}, {"format", "url"}}},
                                   {"label", {{"type", "string"}}}};
    const nlohmann::json recipe = {{"remote_url", "http://gpu-box:8000"}};
    // the recipe's URL, sent back by the UI unchanged, passes without an allow-list
    CHECK_FALSE(check_remote_targets({{"remote_url", "http://gpu-box:8000"}}, recipe, params, {}));
    CHECK_FALSE(check_remote_targets(nlohmann::json::object(), recipe, params, {}));
    // another URL over the recipe's is the request's own
    auto refused = check_remote_targets({{"remote_url", "http://10.0.0.5:6379"}}, recipe, params, {});
    REQUIRE(refused);
    CHECK(refused->status == 403);
    CHECK(refused->field == "remote_url");
    CHECK(refused->message.find("10.0.0.5:6379") != std::string::npos);
    CHECK_FALSE(check_remote_targets({{"remote_url", "http://10.0.0.5:6379"}}, recipe, params, {"10.0.0.5:6379"}));
    // only "format": "url" parameters are targets
    CHECK_FALSE(check_remote_targets({{"label", "http://10.0.0.5:6379"}}, nlohmann::json::object(), params, {}));
}

TEST_CASE("redaction leaves no secret spelled out, '*' in it or not") {
    auto redacted = [](const std::string &text, const std::vector<std::string> &secrets) {
        return redact(nlohmann::json(text), secrets).get<std::string>();
    };
    // the mask and a neighbour spell the secret again: "xx**" -> "x***" still showed "x**"
    for (const std::string &text : std::vector<std::string>{"xx**", "**xx", "k=xx** and x**"}) {
        for (const std::string &secret : std::vector<std::string>{"x**", "**x"}) {
            if (text.find(secret) == std::string::npos) continue;
            const std::string out = redacted(text, {secret});
            CHECK_MESSAGE(out.find(secret) == std::string::npos, std::string(text + " / " + secret + " -> " + out));
        }
    }
    // overlapping occurrences are masked together; the text around them stays
    CHECK(redacted("T=ababab;", {"abab"}) == "T=***;");
    CHECK(redacted("HF_TOKEN=hf_x and hf_x", {"hf_x"}) == "HF_TOKEN=*** and ***");
    // secrets of stars alone: "***" itself would spell them
    CHECK(redacted("p=**", {"**"}).find("**") == std::string::npos);
    CHECK(redacted("p=*", {"*", "a"}).find('*') == std::string::npos);
    CHECK(redacted("nothing here", {"s3cret"}) == "nothing here");
}

}
