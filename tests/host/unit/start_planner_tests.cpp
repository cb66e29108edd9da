// plan_start against the real test plugin's manifest: recipe merge, routing, knob validation,
// the torch.compile -> enforce_eager rule, data_dir models.
#include <doctest/doctest.h>

#include "api/start_planner.h"

using namespace omnihost;

namespace {

struct Planner {
    plugin_loader::registry plugins;
    ApiContext context;
    Planner() {
        REQUIRE(plugins.scan_dir(TEST_PLUGIN_DIR));
        context.plugins = &plugins;
        context.options.data_dir = "/srv/omni-data";
        context.recipes.load(OMNIHOST_RECIPE_DIR, "demo-wan-tiny");
        context.bound_port = 8091;
    }
    PlanOutcome plan(const nlohmann::json &body) { return plan_start(context, body); }
};

} // namespace

TEST_SUITE("planner") {

TEST_CASE("a recipe fills the start: model under data_dir, load settings, generation defaults apart") {
    Planner p;
    const PlanOutcome out = p.plan({{"recipe", "demo-wan-tiny"}});
    REQUIRE_MESSAGE(out.plan, out.error.message);
    const StartPlan &plan = *out.plan;
    CHECK(plan.plugin_id == "test_plugin");
    CHECK(plan.model == "/srv/omni-data/models/wan-tiny-demo");
    CHECK(plan.start_json["model"] == plan.model);
    CHECK(plan.start_json["flow_shift"] == 3.0);       // load setting -> start JSON
    CHECK(plan.start_json["recipe"] == "demo-wan-tiny");
    CHECK_FALSE(plan.start_json.contains("fps"));      // generation default stays out of the start
    CHECK(plan.generation_defaults["fps"] == 8);
    CHECK(plan.start_json["test_load_ms"] == 0);       // the plugin's declared default
    // An explicit model overrides the recipe's and is taken as given.
    const PlanOutcome custom = p.plan({{"recipe", "demo-wan-tiny"}, {"model", "my/other"}});
    REQUIRE(custom.plan);
    CHECK(custom.plan->model == "my/other");
}

TEST_CASE("torch.compile means not eager unless eager is explicit") {
    Planner p;
    auto eager_of = [&](nlohmann::json body) {
        body["model"] = "a/b";
        body["model_type"] = "video";
        const PlanOutcome out = p.plan(body);
        REQUIRE_MESSAGE(out.plan, out.error.message);
        return out.plan->start_json.value("enforce_eager", nlohmann::json(nullptr));
    };
    CHECK(eager_of({{"enable_torch_compile", true}}) == false);
    CHECK(eager_of({{"enable_torch_compile", false}}) == true);
    CHECK(eager_of({{"enable_torch_compile", true}, {"enforce_eager", true}}) == true);
    CHECK(eager_of(nlohmann::json::object()).is_null());
}

TEST_CASE("routing and cross-field refusals") {
    Planner p;
    auto error_of = [&](const nlohmann::json &body) {
        const PlanOutcome out = p.plan(body);
        return out.plan ? std::string("ok") : out.error.field + "|" + std::to_string(out.error.status);
    };
    CHECK(error_of({{"model", "a/b"}, {"model_type", "video"}, {"run_mode", "container"}}) == "run_mode|400");
    CHECK(error_of({{"model", "a/b"}, {"model_type", "audio"}, {"run_mode", "remote"}}) == "run_mode|400");
    CHECK(error_of({{"model", "a/b"}, {"model_type", "image"}, {"run_mode", "remote"}}) == "remote_url|400");
    CHECK(error_of({{"model", "a/b"}, {"model_type", "image"}, {"run_mode", "remote"}, {"remote_url", "https://x"}}) == "ok");
    CHECK(error_of({{"model", "a/b"}, {"model_type", "image"}, {"run_mode", "container"}, {"port", 8091}}) == "ok"); // test plugin is in-process
    CHECK(error_of({{"model", "a/b"}, {"model_type", "video"}, {"test_load_steps", 0}}) == "test_load_steps|400");
    CHECK(error_of({{"recipe", "tts-base"}, {"model_type", "omni"}}) == "ok"); // the request's type wins
}

}
