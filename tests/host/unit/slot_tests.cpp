// Runtime slot state machine against a scripted fake backend (no plugin, no HTTP): every
// transition and conflict, cancellation of loads and generations, health failure.
#include <doctest/doctest.h>

#include <atomic>
#include <thread>

#include "slot/runtime_slot.h"

using namespace omnihost;
using namespace std::chrono_literals;

namespace {

// What the fake does; shared with the test so it can steer a running call.
struct Script {
    std::atomic<int> load_steps{3};
    std::atomic<int> step_ms{5};
    std::atomic<bool> fail_start{false};
    std::atomic<bool> health_failed{false};
    std::atomic<bool> generate_until_cancelled{false};
    std::atomic<int> stops{0};
    std::atomic<int> destroyed{0};
    std::atomic<int> progress_events{0};
};

class FakeBackend : public Backend {
public:
    explicit FakeBackend(Script &script) : script_(script) {}
    ~FakeBackend() override { ++script_.destroyed; }
    BackendStatus start(const std::string &, const JobHooks &hooks) override {
        for (int i = 1; i <= script_.load_steps; ++i) {
            if (hooks.is_cancelled()) return {OMNIHOST_CANCELLED, "load cancelled"};
            std::this_thread::sleep_for(std::chrono::milliseconds(script_.step_ms.load()));
            hooks.progress(i, script_.load_steps, "load", "loading");
        }
        if (script_.fail_start) return {OMNIHOST_INTERNAL, "weights missing"};
        return {};
    }
    BackendStatus health(std::string &out) override {
        out = script_.health_failed ? R"({"ready":false,"failed":true,"message":"server exited with code 3"})"
                                    : R"({"ready":true,"failed":false,"message":"fine"})";
        return {};
    }
    BackendStatus generate(const std::string &request, const JobHooks &hooks, BackendResult &out) override {
        for (int i = 0; script_.generate_until_cancelled || i < 3; ++i) {
            if (hooks.is_cancelled()) return {OMNIHOST_CANCELLED, "cancelled"};
            hooks.progress(i + 1, 3, "denoise", "");
            std::this_thread::sleep_for(std::chrono::milliseconds(script_.step_ms.load()));
        }
        out.data = "bytes:" + request;
        out.mime_type = "video/mp4";
        out.metadata_json = "{}";
        return {};
    }
    BackendStatus stop() override {
        ++script_.stops;
        return {};
    }

private:
    Script &script_;
};

StartPlan video_plan() {
    StartPlan plan;
    plan.plugin_id = "fake";
    plan.plugin_kind = "inprocess";
    plan.model = "m";
    plan.model_type = "video";
    plan.run_mode = "subprocess";
    return plan;
}

struct Fixture {
    Script script;
    std::atomic<int> published{0};
    RuntimeSlot slot{[this](const std::string &, std::string &) -> std::unique_ptr<Backend> {
                         return std::make_unique<FakeBackend>(script);
                     },
                     [this](const std::string &, int32_t, int32_t, const std::string &, const std::string &) {
                         ++published;
                     },
                     20ms};
};

GenerateCall video_call(const std::string &id = "") {
    GenerateCall call;
    call.task = Task::Video;
    call.job_id = id;
    call.request = {{"task", "video"}, {"prompt", "x"}};
    return call;
}

} // namespace

TEST_SUITE("slot") {

TEST_CASE("idle -> starting -> ready -> stopping -> idle, with conflicts on the way") {
    Fixture f;
    f.script.step_ms = 30;
    CHECK(f.slot.snapshot().state == SlotState::Idle);
    CHECK(f.slot.stop(10ms).http_status == 409); // nothing to stop
    CHECK(f.slot.start(video_plan()).http_status == 202);
    CHECK(f.slot.snapshot().state == SlotState::Starting);
    CHECK(f.slot.start(video_plan()).http_status == 409); // already starting
    CHECK(f.slot.generate(video_call()).refusal.http_status == 503); // not ready yet
    REQUIRE(f.slot.wait_for_state({SlotState::Ready}, 5s));
    CHECK(f.published >= 3); // load progress went to the sink
    CHECK(f.slot.start(video_plan()).http_status == 409); // already running
    const SlotReply stopped = f.slot.stop(5s);
    CHECK(stopped.http_status == 200);
    CHECK(f.slot.snapshot().state == SlotState::Idle);
    CHECK(f.script.stops == 1);
    CHECK(f.script.destroyed == 1);
    CHECK(!f.slot.snapshot().plan);
}

TEST_CASE("a failed start leaves the slot failed with the plugin's reason; stop or start recover") {
    Fixture f;
    f.script.fail_start = true;
    CHECK(f.slot.start(video_plan()).http_status == 202);
    REQUIRE(f.slot.wait_for_state({SlotState::Failed}, 5s));
    const auto snap = f.slot.snapshot();
    CHECK(snap.error.find("weights missing") != std::string::npos);
    CHECK(f.slot.generate(video_call()).refusal.http_status == 503);
    CHECK(f.slot.stop(1s).http_status == 200); // failed -> idle
    CHECK(f.slot.snapshot().state == SlotState::Idle);
    f.script.fail_start = false;
    CHECK(f.slot.start(video_plan()).http_status == 202);
    CHECK(f.slot.wait_for_state({SlotState::Ready}, 5s));
}

TEST_CASE("stop during a load cancels it and ends idle") {
    Fixture f;
    f.script.load_steps = 1000;
    f.script.step_ms = 10;
    CHECK(f.slot.start(video_plan()).http_status == 202);
    std::this_thread::sleep_for(50ms);
    const SlotReply reply = f.slot.stop(5s);
    CHECK(reply.http_status == 200);
    CHECK(f.slot.snapshot().state == SlotState::Idle);
    CHECK(f.script.destroyed == 1);
}

TEST_CASE("wrong modality is refused with the playground's message") {
    Fixture f;
    CHECK(f.slot.start(video_plan()).http_status == 202);
    REQUIRE(f.slot.wait_for_state({SlotState::Ready}, 5s));
    GenerateCall call = video_call();
    call.task = Task::Audio;
    const GenerateReply reply = f.slot.generate(call);
    CHECK(reply.refusal.http_status == 409);
    CHECK(reply.refusal.error.rfind("In-process model is not an audio model", 0) == 0);
    call.task = Task::Tts;
    CHECK(f.slot.generate(call).refusal.error.rfind("In-process model is not a TTS model", 0) == 0);
    call.task = Task::Image;
    CHECK(f.slot.generate(call).refusal.error.rfind("In-process model is not an image model", 0) == 0);
    StartPlan audio = video_plan();
    audio.model_type = "audio";
    audio.plugin_kind = "proxy";
    CHECK(modality_refusal(audio, Task::Video).rfind("Loaded model is not a video model", 0) == 0);
    CHECK(modality_refusal(audio, Task::Audio).empty());
}

TEST_CASE("one generation at a time; cancel by id; the result of a finished job") {
    Fixture f;
    CHECK(f.slot.start(video_plan()).http_status == 202);
    REQUIRE(f.slot.wait_for_state({SlotState::Ready}, 5s));
    const GenerateReply done = f.slot.generate(video_call("first"));
    CHECK(done.status.ok());
    CHECK(done.result.mime_type == "video/mp4");
    CHECK(done.result.data.find("\"prompt\":\"x\"") != std::string::npos);

    f.script.generate_until_cancelled = true;
    auto pending = f.slot.generate_async(video_call("long-one"));
    for (int i = 0; i < 200 && !f.slot.snapshot().job; ++i) std::this_thread::sleep_for(5ms);
    const auto snap = f.slot.snapshot();
    REQUIRE(snap.job);
    CHECK(snap.job->id == "long-one");
    CHECK(snap.job->task == "video");
    CHECK(f.slot.generate(video_call("second")).refusal.http_status == 409); // busy
    CHECK(f.slot.cancel("no-such-job").http_status == 404);
    const SlotReply cancelled = f.slot.cancel("long-one");
    CHECK(cancelled.http_status == 200);
    CHECK(cancelled.job_id == "long-one");
    const GenerateReply reply = pending.get();
    CHECK(reply.cancelled);
    CHECK(f.slot.snapshot().state == SlotState::Ready); // a cancelled job leaves the model loaded
    CHECK(!f.slot.snapshot().job);
    CHECK(f.slot.cancel("").http_status == 404); // nothing running any more
}

TEST_CASE("stop while generating cancels the job, then unloads") {
    Fixture f;
    CHECK(f.slot.start(video_plan()).http_status == 202);
    REQUIRE(f.slot.wait_for_state({SlotState::Ready}, 5s));
    f.script.generate_until_cancelled = true;
    auto pending = f.slot.generate_async(video_call());
    for (int i = 0; i < 200 && !f.slot.snapshot().job; ++i) std::this_thread::sleep_for(5ms);
    CHECK(f.slot.stop(5s).http_status == 200);
    CHECK(pending.get().cancelled);
    CHECK(f.slot.snapshot().state == SlotState::Idle);
}

TEST_CASE("a backend that reports failed in health turns the slot failed with its message") {
    Fixture f;
    CHECK(f.slot.start(video_plan()).http_status == 202);
    REQUIRE(f.slot.wait_for_state({SlotState::Ready}, 5s));
    f.script.health_failed = true;
    REQUIRE(f.slot.wait_for_state({SlotState::Failed}, 5s));
    CHECK(f.slot.snapshot().error == "server exited with code 3");
    for (int i = 0; i < 200 && f.script.destroyed == 0; ++i) std::this_thread::sleep_for(5ms);
    CHECK(f.script.destroyed == 1); // torn down on the worker
    f.script.health_failed = false;
    CHECK(f.slot.start(video_plan()).http_status == 202); // failed -> starting is allowed
    CHECK(f.slot.wait_for_state({SlotState::Ready}, 5s));
}

TEST_CASE("shutdown with a model loaded stops and destroys it") {
    Script script;
    {
        RuntimeSlot slot([&](const std::string &, std::string &) -> std::unique_ptr<Backend> {
            return std::make_unique<FakeBackend>(script);
        }, nullptr, 20ms);
        CHECK(slot.start(video_plan()).http_status == 202);
        REQUIRE(slot.wait_for_state({SlotState::Ready}, 5s));
        slot.shutdown(5s);
        CHECK(script.stops == 1);
        CHECK(script.destroyed == 1);
        CHECK(slot.start(video_plan()).http_status == 503);
    }
}

TEST_CASE("a factory that cannot create an instance fails the start with its reason") {
    RuntimeSlot slot([](const std::string &, std::string &error) -> std::unique_ptr<Backend> {
        error = "library gone";
        return nullptr;
    }, nullptr, 20ms);
    CHECK(slot.start(video_plan()).http_status == 202);
    REQUIRE(slot.wait_for_state({SlotState::Failed}, 5s));
    CHECK(slot.snapshot().error.find("library gone") != std::string::npos);
}

}
