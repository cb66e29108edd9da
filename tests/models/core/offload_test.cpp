// The CPU-offload placement policy (core/offload.h) and the memory readings (core/device_memory.h).
// On a machine without a GPU the execution device is the CPU, so the moves are no-ops on the
// tensors: these tests check the order of the moves the policy makes, and that the numbers come
// out bit-identical whether a component went through the moves or not.
#include "core/device_memory.h"
#include "core/offload.h"

#include <torch/torch.h>

// doctest last: c10 (glog) defines its own CHECK macro.
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

using namespace omnihost::models;

namespace {

using move_log = std::vector<std::pair<std::string, std::string>>;

offload_move_observer recorder(move_log &log) {
    return [&log](const std::string &name, const c10::Device &d) { log.emplace_back(name, d.str()); };
}

}  // namespace

TEST_CASE("model offload: one component on the execution device at a time, in the order used") {
    move_log log;
    std::vector<std::string> moved;  // what the components' own move functions saw
    model_offloader off(true, c10::Device(c10::kCPU), recorder(log));
    for (const char *name : {"text_encoder", "transformer", "transformer_2", "vae"})
        off.add(name, [&moved, name](const c10::Device &d) { moved.push_back(std::string(name) + "@" + d.str()); });
    CHECK(off.order() == "text_encoder -> transformer -> transformer_2 -> vae");
    CHECK(off.resident().empty());

    // A two-expert request: text encoder, high-noise expert, then the low-noise one, then the VAE.
    off.activate("text_encoder");
    off.activate("transformer");
    off.activate("transformer");  // every step asks again: no move
    off.activate("transformer_2");
    off.activate("vae");
    CHECK(off.resident() == "vae");
    off.release_all();
    CHECK(off.resident().empty());
    const move_log expected = {{"text_encoder", "cpu"}, {"text_encoder", "cpu"}, {"transformer", "cpu"},
                               {"transformer", "cpu"},  {"transformer_2", "cpu"}, {"transformer_2", "cpu"},
                               {"vae", "cpu"},          {"vae", "cpu"}};
    CHECK(log == expected);
    // Out before in: the previous component leaves before the next arrives, never both at once.
    const std::vector<std::string> expected_moved = {"text_encoder@cpu", "text_encoder@cpu", "transformer@cpu",
                                                     "transformer@cpu",  "transformer_2@cpu", "transformer_2@cpu",
                                                     "vae@cpu",          "vae@cpu"};
    CHECK(moved == expected_moved);
}

TEST_CASE("model offload: the idle expert is never moved; disabled offload moves nothing") {
    move_log log;
    model_offloader off(true, c10::Device(c10::kCPU), recorder(log));
    for (const char *name : {"text_encoder", "transformer", "transformer_2", "vae"}) off.add(name, {});
    // A request whose steps all fall on the high-noise side of the boundary.
    off.activate("text_encoder");
    for (int step = 0; step < 4; ++step) off.activate("transformer");
    off.activate("vae");
    off.release_all();
    for (const auto &[name, device] : log) CHECK(name != "transformer_2");
    CHECK(log.size() == 6);

    move_log none;
    model_offloader disabled(false, c10::Device(c10::kCPU), recorder(none));
    disabled.add("transformer", [](const c10::Device &) { FAIL("a disabled offloader moved a component"); });
    disabled.activate("transformer");
    disabled.release_all();
    CHECK(none.empty());
    CHECK_THROWS_AS(disabled.activate("unet"), std::logic_error);
    CHECK_THROWS_AS(disabled.add("transformer", {}), std::logic_error);
}

TEST_CASE("sequential offload: each block in before it runs and out right after; results bit-identical") {
    torch::manual_seed(7);
    std::vector<torch::nn::Linear> blocks;
    for (int i = 0; i < 3; ++i) blocks.emplace_back(torch::nn::Linear(8, 8));
    const torch::Tensor x = torch::randn({4, 8});
    auto run = [&](block_offloader &off) {
        torch::NoGradGuard no_grad;
        torch::Tensor h = x;
        for (size_t i = 0; i < blocks.size(); ++i) {
            off.before(i);
            h = torch::gelu(blocks[i]->forward(h.to(blocks[i]->weight.device())));
            off.after(i);
        }
        return h;
    };
    move_log log;
    block_offloader off(true, c10::Device(c10::kCPU), "transformer",
                        [&](size_t i, const c10::Device &d) { blocks[i]->to(d); }, recorder(log));
    block_offloader plain(false, c10::Device(c10::kCPU), "transformer", {}, {});
    const torch::Tensor a = run(off), b = run(plain);
    CHECK(torch::equal(a, b));
    const move_log expected = {{"transformer.block 0", "cpu"}, {"transformer.block 0", "cpu"},
                               {"transformer.block 1", "cpu"}, {"transformer.block 1", "cpu"},
                               {"transformer.block 2", "cpu"}, {"transformer.block 2", "cpu"}};
    CHECK(log == expected);
    CHECK(std::string(offload_mode_name(offload_mode::sequential)) == "sequential");
}

TEST_CASE("memory readings: the CPU peak covers an allocation made in the window") {
    reset_memory_peak("cpu");
    const memory_reading before = read_memory("cpu");
    REQUIRE(before.peak_bytes > 0);
    REQUIRE(before.current_bytes > 0);
    CHECK(before.device == "cpu");
    CHECK(before.measure.find("peak RSS") != std::string::npos);
    {
        // 256 MiB touched page by page (fill_ writes every element, so the pages are resident).
        torch::Tensor big = torch::empty({64 << 20}, torch::kFloat);
        big.fill_(1.0f);
        CHECK(big.sum().item<double>() == double(64 << 20));
    }
    const memory_reading after = read_memory("cpu");
    CHECK(after.peak_bytes >= before.current_bytes + (200LL << 20));
    CHECK(format_bytes(1536LL << 20) == "1.50 GiB");
    CHECK(format_bytes(512) == "512 B");
    CHECK(format_bytes(-1) == "unknown");
    release_cached_memory("cpu");  // must not disturb anything
}
