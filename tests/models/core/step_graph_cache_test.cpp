// core/step_graph_cache, as the Wan and Stable Audio pipelines use it for enforce_eager: the load-time
// decision and its log line, and the eager fallback after a capture that fails. Without a GPU a
// capture always fails (no CUDA device; on libtorch 1.13 no graph capture at all), which is the
// fallback path; capture and replay themselves need a GPU (scripts/gpu_check/device_check.cpp).
#include "core/step_graph_cache.h"

#include "core/torch_compat.h"

#include <ATen/ATen.h>

#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

namespace models = omnihost::models;

namespace {

bool has(const std::string &text, const std::string &needle) { return text.find(needle) != std::string::npos; }

}  // namespace

TEST_CASE("step_graph_cache: the decision and its log line say which way and why") {
    const auto on = models::decide_step_graphs(true, c10::Device(c10::kCPU));
    CHECK_FALSE(on.capture);
    CHECK(on.message == "enforce_eager: on; the denoising step runs eagerly");

    const auto cpu = models::decide_step_graphs(false, c10::Device(c10::kCPU));
    CHECK_FALSE(cpu.capture);
    CHECK_MESSAGE(has(cpu.message, "enforce_eager: off requested, but graph capture needs a CUDA device (the compute "
                                   "device is cpu)"), cpu.message);
    CHECK_MESSAGE(has(cpu.message, ": the denoising step runs eagerly"), cpu.message);
    // On 1.13 the libtorch is a second reason, and the log names it with its version.
    CHECK_MESSAGE(has(cpu.message, "this libtorch (" TORCH_VERSION ") cannot capture graphs") ==
                      !OMNIHOST_HAS_ACCELERATOR_GRAPH, cpu.message);

    // A CUDA device object on a machine (or a libtorch) without CUDA: eager, with the reason.
    const auto cuda = models::decide_step_graphs(false, c10::Device("cuda:0"));
    if (!at::hasCUDA()) {
        CHECK_FALSE(cuda.capture);
        CHECK_MESSAGE(has(cuda.message, OMNIHOST_HAS_ACCELERATOR_GRAPH ? "CUDA is not available to this libtorch"
                                                                       : "cannot capture graphs"), cuda.message);
    }

    const auto blocked = models::decide_step_graphs(false, c10::Device(c10::kCPU), "the weights move inside the step");
    CHECK_FALSE(blocked.capture);
    CHECK(blocked.message == "enforce_eager: off requested, but the weights move inside the step: the denoising step "
                             "runs eagerly");
}

TEST_CASE("step_graph_cache: disabled runs the step as given; a failed capture warns once and runs eagerly") {
    std::vector<std::pair<bool, std::string>> log;
    auto sink = [&log](bool warn, const std::string &m) { log.emplace_back(warn, m); };
    int calls = 0;
    const models::device_graph::step_fn step = [&calls](const std::vector<at::Tensor> &in) {
        ++calls;
        return in[0] * 2 + in[1];
    };
    const at::Tensor x = at::arange(6, at::kFloat).view({2, 3}), t = at::full({1}, 0.5f);
    const at::Tensor want = x * 2 + t;

    models::step_graph_cache off(false, 1, sink);
    CHECK(at::equal(off.run(0, "step", {x, t}, step), want));
    CHECK(calls == 1);
    CHECK(log.empty());
    CHECK(off.captured() == 0);

    // Enabled on CPU tensors (as after a decision made for a device that then cannot capture).
    models::step_graph_cache on(true, 2, sink);
    CHECK(on.capturing());
    CHECK_THROWS_AS(on.run(2, "step", {x, t}, step), std::out_of_range);
    calls = 0;
    CHECK(at::equal(on.run(0, "step", {x, t}, step), want));
    CHECK(calls == 1);  // the eager fallback, run once
    REQUIRE(log.size() == 1);
    CHECK(log[0].first);  // a warning
    CHECK_MESSAGE(has(log[0].second, "CUDA graph capture failed, running the denoising step eagerly: "), log[0].second);
    CHECK_FALSE(on.capturing());
    CHECK(on.captured() == 0);
    // The rest of the request is eager with no further capture attempts or messages.
    const at::Tensor x2 = x + 1;
    CHECK(at::equal(on.run(1, "other", {x2, t}, step), x2 * 2 + t));
    CHECK(at::equal(on.run(0, "step", {x2, t}, step), x2 * 2 + t));
    CHECK(calls == 3);
    CHECK(log.size() == 1);
    on.drop(0);
    on.drop(7);  // out of range: nothing to drop
    on.drop_all();
}
