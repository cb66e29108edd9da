// enable_cpu_offload as diffusers' model offload, on a real (tiny) Wan2.2 A14B pipeline: the
// components take their turns on the execution device in diffusers' order (text_encoder ->
// transformer -> transformer_2 -> vae), the expert that does not run is never moved, everything
// is back on the CPU at the end, also after a failed or cancelled request, and the video is
// bit-identical with and without offload. This machine has no GPU, so the execution device is the
// CPU and the moves change no tensor; what is checked is the sequence the policy makes.
#include "pipeline_test_fixture.h"

#include <ATen/ATen.h>
#undef CHECK  // c10 defines a glog-style CHECK; doctest's must win
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include <string>
#include <utility>
#include <vector>

using namespace wan_pipeline_test;

namespace {

wan::generate_request request(int64_t steps) {
    return text_request({.height = 32, .width = 32, .num_frames = 5, .steps = steps, .guidance_scale = 3.0, .seed = 5});
}

struct recorder {
    std::vector<std::string> moves;  // component names, in order (every device is "cpu" here)
    wan::load_callbacks callbacks() {
        wan::load_callbacks cb;
        cb.on_offload_move = [this](const std::string &c, const std::string &d) {
            CHECK(d == "cpu");
            moves.push_back(c);
        };
        return cb;
    }
};

using names = std::vector<std::string>;

}  // namespace

TEST_CASE("model offload: diffusers' order, both experts in turn, bit-identical to no offload") {
    recorder rec;
    auto off = wan::wan_pipeline::load(kA14b, cpu_settings(true), rec.callbacks());
    auto plain = wan::wan_pipeline::load(kA14b, cpu_settings(false));
    REQUIRE(off->info().variant == "wan2.2-a14b");
    CHECK(rec.moves.empty());  // loading moves nothing: every component starts on the CPU

    // 6 UniPC steps with boundary 0.875: the first steps on transformer, the rest on transformer_2.
    std::vector<bool> second;
    wan::generate_callbacks cb;
    cb.on_step = [&](const wan::step_trace &t) { second.push_back(t.used_transformer_2); };
    const auto a = off->generate(request(6), cb);
    REQUIRE(second.size() == 6);
    REQUIRE(!second.front());
    REQUIRE(second.back());
    // Each component in (to the execution device) then out (back to the CPU) before the next
    // comes in; the VAE goes out at the end of the request.
    CHECK(rec.moves == names{"text_encoder", "text_encoder", "transformer", "transformer", "transformer_2",
                             "transformer_2", "vae", "vae"});
    const auto b = plain->generate(request(6));
    CHECK(at::equal(a.frames, b.frames));
    CHECK(at::equal(a.initial_latents, b.initial_latents));
}

TEST_CASE("model offload: the idle expert stays where it is; a cancelled request still puts everything back") {
    recorder rec;
    auto p = wan::wan_pipeline::load(kA14b, cpu_settings(true), rec.callbacks());
    // One step at t = 999 >= 875: only the high-noise expert runs.
    p->generate(request(1));
    CHECK(rec.moves == names{"text_encoder", "text_encoder", "transformer", "transformer", "vae", "vae"});

    rec.moves.clear();
    wan::generate_callbacks cb;
    int steps = 0;
    cb.progress = [&](int, int, const std::string &phase) { steps += phase == "denoise"; };
    cb.is_cancelled = [&] { return steps >= 1; };
    CHECK_THROWS_AS(p->generate(request(6), cb), wan::generation_cancelled);
    // Cancelled after the first step: the transformer was in, and is back on the CPU.
    CHECK(rec.moves == names{"text_encoder", "text_encoder", "transformer", "transformer"});

    rec.moves.clear();
    auto bad = request(2);
    bad.height = 24;  // not a multiple of 16: refused before any component moves
    CHECK_THROWS_AS(p->generate(bad), wan::request_error);
    CHECK(rec.moves.empty());
}

TEST_CASE("offload off: no moves at all") {
    recorder rec;
    auto p = wan::wan_pipeline::load(kA14b, cpu_settings(false), rec.callbacks());
    p->generate(request(2));
    CHECK(rec.moves.empty());
}

TEST_CASE("sequential offload: each block moves in just before it runs and out right after; same video") {
    recorder rec;
    auto s = cpu_settings(false);
    s.sequential_cpu_offload = true;
    auto seq = wan::wan_pipeline::load(kA14b, s, rec.callbacks());
    auto plain = wan::wan_pipeline::load(kA14b, cpu_settings(false));
    const auto a = seq->generate(request(6));
    CHECK(at::equal(a.frames, plain->generate(request(6)).frames));

    REQUIRE(rec.moves.size() > 8);
    CHECK(names(rec.moves.begin(), rec.moves.begin() + 3) == names{"text_encoder", "text_encoder", "transformer"});
    // After the (non-block) transformer weights come in, every block move is an in/out pair of the
    // same block, blocks in order 0, 1, ... within each call; the first expert's blocks never move
    // again once transformer_2 has come in.
    size_t i = 3;
    size_t block_pairs = 0;
    bool second_seen = false;
    const std::string expected_next[] = {"transformer.block 0", "transformer.block 1"};
    for (; i + 1 < rec.moves.size() && rec.moves[i].find(".block ") != std::string::npos; i += 2) {
        CHECK(rec.moves[i] == rec.moves[i + 1]);
        ++block_pairs;
    }
    CHECK(rec.moves[3] == expected_next[0]);
    CHECK(rec.moves[5] == expected_next[1]);
    for (; i < rec.moves.size(); ++i) {
        if (rec.moves[i].rfind("transformer_2", 0) == 0) second_seen = true;
        if (second_seen) CHECK(rec.moves[i].rfind("transformer.block", 0) != 0);
    }
    CHECK(second_seen);
    // Per block of the tiny model (2 layers): 2 text K/V encodes (cond, uncond) + 2 forwards (CFG)
    // per step on the first expert, so a multiple of the layer count.
    CHECK(block_pairs % 2 == 0);
    CHECK(block_pairs >= 2 * 4);
    CHECK(rec.moves.back() == "vae");
}
