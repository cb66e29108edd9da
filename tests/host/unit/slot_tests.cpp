// Runtime slot state machine against a scripted fake backend (no plugin, no HTTP): every
// transition and conflict, cancellation of loads and generations, health failure, and the faults:
// calls that ignore cancel or hang past their deadline, the health-failure teardown racing a quick
// restart, shutdown under a running call. Ordering is forced with gates, never with sleeps.
#include <doctest/doctest.h>

#include <array>
#include <atomic>
#include <condition_variable>
#include <functional>
#include <limits>
#include <mutex>
#include <thread>

#include "slot/runtime_slot.h"

using namespace omnihost;
using namespace std::chrono_literals;

namespace {

// Polls `done` until true or `limit` passed; the thing waited for happens on another thread.
bool wait_until(const std::function<bool()> &done, std::chrono::milliseconds limit = 5000ms) {
    const auto end = std::chrono::steady_clock::now() + limit;
    while (!done()) {
        if (std::chrono::steady_clock::now() >= end) return false;
        std::this_thread::sleep_for(1ms);
    }
    return true;
}

// A call that blocks, deaf to cancellation, until the test opens the gate.
struct call_gate {
    std::mutex mutex;
    std::condition_variable cv;
    bool open = false;
    int inside = 0;
    int passed = 0;

    void pass() {
        std::unique_lock lock(mutex);
        ++inside;
        cv.notify_all();
        cv.wait(lock, [this] { return open; });
        --inside;
        ++passed;
        cv.notify_all();
    }
    bool wait_inside(int n, std::chrono::milliseconds limit = 5000ms) {
        std::unique_lock lock(mutex);
        return cv.wait_for(lock, limit, [&] { return inside >= n; });
    }
    // Opens the gate and waits until nobody is inside: a thread the slot abandoned is out of the
    // fake before the test's Script (which the fake points into) goes away.
    bool release(std::chrono::milliseconds limit = 5000ms) {
        std::unique_lock lock(mutex);
        open = true;
        cv.notify_all();
        return cv.wait_for(lock, limit, [&] { return inside == 0; });
    }
};

// What the fake does; shared with the test so it can steer a running call.
struct slot_script {
    std::atomic<int> load_steps{3};
    std::atomic<int> step_ms{5};
    std::atomic<bool> fail_start{false};
    std::atomic<bool> health_failed{false};
    std::atomic<bool> generate_until_cancelled{false};
    std::atomic<bool> load_hangs{false};     // start() blocks at `load_gate`, deaf to cancel
    std::atomic<bool> generate_hangs{false}; // generate() blocks at `generate_gate`
    std::atomic<bool> stop_hangs{false};     // stop() blocks at `stop_gate`
    std::atomic<bool> health_hangs{false};   // health() blocks at `health_gate`
    call_gate load_gate, generate_gate, stop_gate, health_gate;
    std::atomic<int> stops{0};
    std::atomic<int> destroyed{0};
    std::atomic<int> progress_events{0};
    std::atomic<int> created{0};
    std::array<std::atomic<int>, 8> stops_of{};     // by instance number (1-based)
    std::array<std::atomic<int>, 8> destroyed_of{};
    std::atomic<int> calls_inside{0}; // fake calls not yet returned (abandoned ones included)
};

// Counts a call into the fake for as long as it runs; the decrement is its last touch of Script.
struct inside_call {
    explicit inside_call(slot_script &script) : script(script) { ++script.calls_inside; }
    ~inside_call() { --script.calls_inside; }
    slot_script &script;
};

class fake_backend : public slot_backend {
public:
    explicit fake_backend(slot_script &script) : script_(script), number_(++script.created) {}
    ~fake_backend() override {
        ++script_.destroyed;
        ++script_.destroyed_of[number_];
    }
    backend_status start(const std::string &, const job_hooks &hooks) override {
        inside_call inside(script_);
        if (script_.load_hangs) script_.load_gate.pass();
        for (int i = 1; i <= script_.load_steps; ++i) {
            if (hooks.is_cancelled()) return {OMNIHOST_CANCELLED, "load cancelled"};
            std::this_thread::sleep_for(std::chrono::milliseconds(script_.step_ms.load()));
            hooks.progress(i, script_.load_steps, "load", "loading");
        }
        if (script_.fail_start) return {OMNIHOST_INTERNAL, "weights missing"};
        return {};
    }
    backend_status health(std::string &out) override {
        inside_call inside(script_);
        if (script_.health_hangs) script_.health_gate.pass();
        out = script_.health_failed ? R"({"ready":false,"failed":true,"message":"server exited with code 3"})"
                                    : R"({"ready":true,"failed":false,"message":"fine"})";
        return {};
    }
    backend_status generate(const std::string &request, const job_hooks &hooks, backend_result &out) override {
        inside_call inside(script_);
        if (script_.generate_hangs) script_.generate_gate.pass();
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
    backend_status stop() override {
        inside_call inside(script_);
        if (script_.stop_hangs) script_.stop_gate.pass();
        ++script_.stops;
        ++script_.stops_of[number_];
        return {};
    }
    int number() const { return number_; }

private:
    slot_script &script_;
    int number_;
};

start_plan video_plan() {
    start_plan plan;
    plan.plugin_id = "fake";
    plan.plugin_kind = "inprocess";
    plan.model = std::string("m");
    plan.model_type = "video";
    plan.run_mode = "subprocess";
    return plan;
}

struct fixture {
    explicit fixture(slot_deadlines deadlines = {})
        : slot([this](const std::string &, std::string &) -> std::unique_ptr<slot_backend> {
                   return std::make_unique<fake_backend>(script);
               },
               [this](const std::string &, int32_t, int32_t, const std::string &, const std::string &) {
                   ++published;
               },
               20ms, deadlines) {}
    ~fixture() {
        // Let any call the slot abandoned leave the fake before `script` is gone.
        script.load_gate.release();
        script.generate_gate.release();
        script.stop_gate.release();
        script.health_gate.release();
        wait_until([this] { return script.calls_inside.load() == 0; });
    }
    slot_script script;
    std::atomic<int> published{0};
    runtime_slot slot;
};

constexpr slot_deadlines short_deadlines{std::chrono::milliseconds(100), std::chrono::milliseconds(100)};

generate_call video_call(const std::string &id = "") {
    generate_call call;
    call.task = task_kind::Video;
    call.job_id = id;
    call.request = {{"task", "video"}, {"prompt", "x"}};
    return call;
}

} // namespace

TEST_SUITE("slot") {

TEST_CASE("idle -> starting -> ready -> stopping -> idle, with conflicts on the way") {
    fixture f;
    f.script.load_hangs = true; // the load waits at the gate until the checks below are done
    CHECK(f.slot.snapshot().state == slot_state::Idle);
    CHECK(f.slot.stop(10ms).outcome == slot_outcome::wrong_state); // nothing to stop
    CHECK(f.slot.start(video_plan()).outcome == slot_outcome::accepted);
    REQUIRE(f.script.load_gate.wait_inside(1));
    CHECK(f.slot.snapshot().state == slot_state::Starting);
    CHECK(f.slot.start(video_plan()).outcome == slot_outcome::wrong_state); // already starting
    CHECK(f.slot.generate(video_call()).refusal.outcome == slot_outcome::not_ready); // not ready yet
    REQUIRE(f.script.load_gate.release());
    REQUIRE(f.slot.wait_for_state({slot_state::Ready}, 5s));
    CHECK(f.published >= 3); // load progress went to the sink
    CHECK(f.slot.start(video_plan()).outcome == slot_outcome::wrong_state); // already running
    const slot_reply stopped = f.slot.stop(5s);
    CHECK(stopped.outcome == slot_outcome::done);
    CHECK(f.slot.snapshot().state == slot_state::Idle);
    CHECK(f.script.stops == 1);
    CHECK(f.script.destroyed == 1);
    CHECK(!f.slot.snapshot().plan);
}

TEST_CASE("a failed start leaves the slot failed with the plugin's reason; stop or start recover") {
    fixture f;
    f.script.fail_start = true;
    CHECK(f.slot.start(video_plan()).outcome == slot_outcome::accepted);
    REQUIRE(f.slot.wait_for_state({slot_state::Failed}, 5s));
    const auto snap = f.slot.snapshot();
    CHECK(snap.error.find("weights missing") != std::string::npos);
    CHECK(f.slot.generate(video_call()).refusal.outcome == slot_outcome::not_ready);
    CHECK(f.slot.stop(1s).outcome == slot_outcome::done); // failed -> idle
    CHECK(f.slot.snapshot().state == slot_state::Idle);
    f.script.fail_start = false;
    CHECK(f.slot.start(video_plan()).outcome == slot_outcome::accepted);
    CHECK(f.slot.wait_for_state({slot_state::Ready}, 5s));
}

TEST_CASE("stop during a load cancels it and ends idle") {
    fixture f;
    f.script.load_steps = std::numeric_limits<int>::max(); // ends only when cancelled
    f.script.step_ms = 1;
    CHECK(f.slot.start(video_plan()).outcome == slot_outcome::accepted);
    // Stop once the load is really under way (it reported progress), not after a guessed sleep.
    REQUIRE(wait_until([&] { return f.published.load() >= 1; }));
    CHECK(f.slot.snapshot().state == slot_state::Starting);
    const slot_reply reply = f.slot.stop(5s);
    CHECK(reply.outcome == slot_outcome::done);
    CHECK(f.slot.snapshot().state == slot_state::Idle);
    CHECK(f.script.destroyed == 1);
}

TEST_CASE("wrong modality is refused with the playground's message") {
    fixture f;
    CHECK(f.slot.start(video_plan()).outcome == slot_outcome::accepted);
    REQUIRE(f.slot.wait_for_state({slot_state::Ready}, 5s));
    generate_call call = video_call();
    call.task = task_kind::Audio;
    const generate_reply reply = f.slot.generate(call);
    CHECK(reply.refusal.outcome == slot_outcome::wrong_modality);
    CHECK(reply.refusal.error.rfind("In-process model is not an audio model", 0) == 0);
    call.task = task_kind::Tts;
    CHECK(f.slot.generate(call).refusal.error.rfind("In-process model is not a TTS model", 0) == 0);
    call.task = task_kind::Image;
    CHECK(f.slot.generate(call).refusal.error.rfind("In-process model is not an image model", 0) == 0);
    start_plan audio = video_plan();
    audio.model_type = "audio";
    audio.plugin_kind = "proxy";
    CHECK(modality_refusal(audio, task_kind::Video).rfind("Loaded model is not a video model", 0) == 0);
    CHECK(modality_refusal(audio, task_kind::Audio).empty());
}

TEST_CASE("one generation at a time; cancel by id; the result of a finished job") {
    fixture f;
    CHECK(f.slot.start(video_plan()).outcome == slot_outcome::accepted);
    REQUIRE(f.slot.wait_for_state({slot_state::Ready}, 5s));
    const generate_reply done = f.slot.generate(video_call("first"));
    CHECK(done.status.ok());
    CHECK(done.result.mime_type == "video/mp4");
    CHECK(done.result.data.find("\"prompt\":\"x\"") != std::string::npos);

    f.script.generate_until_cancelled = true;
    auto pending = f.slot.generate_async(video_call("long-one"));
    REQUIRE(wait_until([&] { return f.slot.snapshot().job.has_value(); }));
    const auto snap = f.slot.snapshot();
    REQUIRE(snap.job);
    CHECK(snap.job->id == "long-one");
    CHECK(snap.job->task == "video");
    CHECK(f.slot.generate(video_call("second")).refusal.outcome == slot_outcome::busy); // busy
    CHECK(f.slot.cancel("no-such-job").outcome == slot_outcome::no_such_job);
    const slot_reply cancelled = f.slot.cancel("long-one");
    CHECK(cancelled.outcome == slot_outcome::done);
    CHECK(cancelled.job_id == "long-one");
    const generate_reply reply = pending.get();
    CHECK(reply.cancelled);
    CHECK(f.slot.snapshot().state == slot_state::Ready); // a cancelled job leaves the model loaded
    CHECK(!f.slot.snapshot().job);
    CHECK(f.slot.cancel("").outcome == slot_outcome::no_such_job); // nothing running any more
}

TEST_CASE("stop while generating cancels the job, then unloads") {
    fixture f;
    CHECK(f.slot.start(video_plan()).outcome == slot_outcome::accepted);
    REQUIRE(f.slot.wait_for_state({slot_state::Ready}, 5s));
    f.script.generate_until_cancelled = true;
    auto pending = f.slot.generate_async(video_call());
    REQUIRE(wait_until([&] { return f.slot.snapshot().job.has_value(); }));
    CHECK(f.slot.stop(5s).outcome == slot_outcome::done);
    CHECK(pending.get().cancelled);
    CHECK(f.slot.snapshot().state == slot_state::Idle);
}

TEST_CASE("a backend that reports failed in health turns the slot failed with its message") {
    fixture f;
    CHECK(f.slot.start(video_plan()).outcome == slot_outcome::accepted);
    REQUIRE(f.slot.wait_for_state({slot_state::Ready}, 5s));
    f.script.health_failed = true;
    REQUIRE(f.slot.wait_for_state({slot_state::Failed}, 5s));
    CHECK(f.slot.snapshot().error == "server exited with code 3");
    REQUIRE(wait_until([&] { return f.script.destroyed.load() == 1; }));
    CHECK(f.script.destroyed == 1); // torn down on the worker
    f.script.health_failed = false;
    CHECK(f.slot.start(video_plan()).outcome == slot_outcome::accepted); // failed -> starting is allowed
    CHECK(f.slot.wait_for_state({slot_state::Ready}, 5s));
}

TEST_CASE("shutdown with a model loaded stops and destroys it") {
    slot_script script;
    {
        runtime_slot slot([&](const std::string &, std::string &) -> std::unique_ptr<slot_backend> {
            return std::make_unique<fake_backend>(script);
        }, nullptr, 20ms);
        CHECK(slot.start(video_plan()).outcome == slot_outcome::accepted);
        REQUIRE(slot.wait_for_state({slot_state::Ready}, 5s));
        slot.shutdown(5s);
        CHECK(script.stops == 1);
        CHECK(script.destroyed == 1);
        CHECK(slot.start(video_plan()).outcome == slot_outcome::shutting_down);
    }
}

TEST_CASE("a factory that cannot create an instance fails the start with its reason") {
    runtime_slot slot([](const std::string &, std::string &error) -> std::unique_ptr<slot_backend> {
        error = "library gone";
        return nullptr;
    }, nullptr, 20ms);
    CHECK(slot.start(video_plan()).outcome == slot_outcome::accepted);
    REQUIRE(slot.wait_for_state({slot_state::Failed}, 5s));
    CHECK(slot.snapshot().error.find("library gone") != std::string::npos);
}


TEST_CASE("a generation that ignores its cancel is abandoned at the deadline; the slot fails and serves on") {
    fixture f(short_deadlines);
    CHECK(f.slot.start(video_plan()).outcome == slot_outcome::accepted);
    REQUIRE(f.slot.wait_for_state({slot_state::Ready}, 5s));
    f.script.generate_hangs = true;
    auto pending = f.slot.generate_async(video_call("deaf"));
    REQUIRE(f.script.generate_gate.wait_inside(1));
    CHECK(f.slot.cancel("deaf").outcome == slot_outcome::done);
    // The caller gets an answer although the plugin never returns.
    REQUIRE(pending.wait_for(5s) == std::future_status::ready);
    const generate_reply reply = pending.get();
    CHECK_FALSE(reply.status.ok());
    CHECK(reply.status.message.find("plugin generate ignored its cancel for 0.1 s") != std::string::npos);
    const slot_snapshot snap = f.slot.snapshot();
    CHECK(snap.state == slot_state::Failed);
    CHECK(snap.error.find("abandoned") != std::string::npos);
    CHECK(snap.abandoned == 1);
    CHECK(!snap.job);
    CHECK(f.script.stops_of[1] == 0);     // never stopped ...
    CHECK(f.script.destroyed_of[1] == 0); // ... nor destroyed under the running call
    // The rest keeps working: generate is refused with the reason, stop clears, a new model starts.
    CHECK(f.slot.generate(video_call()).refusal.outcome == slot_outcome::not_ready);
    CHECK(f.slot.stop(1s).outcome == slot_outcome::done);
    CHECK(f.slot.start(video_plan()).outcome == slot_outcome::accepted);
    REQUIRE(f.slot.wait_for_state({slot_state::Ready}, 5s));
    f.script.generate_hangs = false;
    CHECK(f.slot.generate(video_call()).status.ok());
    // When the stuck call finally returns, nothing of the slot is touched and the instance stays leaked.
    REQUIRE(f.script.generate_gate.release());
    REQUIRE(wait_until([&] { return f.script.calls_inside.load() == 0; }));
    CHECK(f.script.destroyed_of[1] == 0);
    CHECK(f.slot.snapshot().state == slot_state::Ready);
    CHECK(f.slot.stop(5s).outcome == slot_outcome::done);
    CHECK(f.script.stops_of[2] == 1);
    CHECK(f.script.destroyed_of[2] == 1);
}

TEST_CASE("a stop that hangs is abandoned at the stop deadline; status answers meanwhile") {
    fixture f(short_deadlines);
    CHECK(f.slot.start(video_plan()).outcome == slot_outcome::accepted);
    REQUIRE(f.slot.wait_for_state({slot_state::Ready}, 5s));
    f.script.stop_hangs = true;
    CHECK(f.slot.stop(0ms).outcome == slot_outcome::accepted);
    REQUIRE(f.script.stop_gate.wait_inside(1));
    CHECK(f.slot.snapshot().state == slot_state::Stopping); // the control plane is not blocked
    CHECK(f.slot.start(video_plan()).outcome == slot_outcome::wrong_state);  // still stopping
    REQUIRE(f.slot.wait_for_state({slot_state::Failed}, 5s));
    const slot_snapshot snap = f.slot.snapshot();
    CHECK(snap.error.find("plugin stop did not return within 0.1 s") != std::string::npos);
    CHECK(snap.abandoned == 1);
    f.script.stop_hangs = false;
    CHECK(f.slot.start(video_plan()).outcome == slot_outcome::accepted); // failed -> starting, on a fresh worker
    REQUIRE(f.slot.wait_for_state({slot_state::Ready}, 5s));
    REQUIRE(f.script.stop_gate.release());
    REQUIRE(wait_until([&] { return f.script.calls_inside.load() == 0; }));
    CHECK(f.script.destroyed_of[1] == 0); // the stuck instance is leaked, not destroyed late
}

TEST_CASE("a health() stuck in the plugin blocks neither abandoning a stuck generate nor the slot's control plane") {
    fixture f(short_deadlines);
    CHECK(f.slot.start(video_plan()).outcome == slot_outcome::accepted);
    REQUIRE(f.slot.wait_for_state({slot_state::Ready}, 5s));
    f.script.health_hangs = true;
    REQUIRE(f.script.health_gate.wait_inside(1));
    f.script.generate_hangs = true;
    auto pending = f.slot.generate_async(video_call("deaf"));
    REQUIRE(f.script.generate_gate.wait_inside(1));
    CHECK(f.slot.cancel("deaf").outcome == slot_outcome::done);
    // Abandoning the generate used to wait for the mutex the stuck health() held.
    REQUIRE(pending.wait_for(5s) == std::future_status::ready);
    CHECK(pending.get().status.message.find("ignored its cancel") != std::string::npos);
    CHECK(f.slot.snapshot().state == slot_state::Failed);
    CHECK(f.slot.stop(1s).outcome == slot_outcome::done);
    f.script.generate_hangs = false;
    f.script.health_hangs = false;
    CHECK(f.slot.start(video_plan()).outcome == slot_outcome::accepted);
    REQUIRE(f.slot.wait_for_state({slot_state::Ready}, 5s));
    CHECK(f.slot.generate(video_call()).status.ok());
    REQUIRE(f.script.health_gate.release());
    REQUIRE(f.script.generate_gate.release());
    REQUIRE(wait_until([&] { return f.script.calls_inside.load() == 0; }));
    CHECK(f.script.destroyed_of[1] == 0); // leaked with the generate, never destroyed under health()
}

TEST_CASE("a stop waits for a stuck health() only until the stop deadline; the instance is then abandoned") {
    fixture f(short_deadlines);
    CHECK(f.slot.start(video_plan()).outcome == slot_outcome::accepted);
    REQUIRE(f.slot.wait_for_state({slot_state::Ready}, 5s));
    f.script.health_hangs = true;
    REQUIRE(f.script.health_gate.wait_inside(1));
    CHECK(f.slot.stop(0ms).outcome == slot_outcome::accepted);
    REQUIRE(f.slot.wait_for_state({slot_state::Failed}, 5s));
    CHECK(f.slot.snapshot().error.find("plugin stop did not return within 0.1 s") != std::string::npos);
    CHECK(f.script.stops_of[1] == 0); // never stopped while health() ran in it
    f.script.health_hangs = false;
    CHECK(f.slot.start(video_plan()).outcome == slot_outcome::accepted);
    REQUIRE(f.slot.wait_for_state({slot_state::Ready}, 5s));
    REQUIRE(f.script.health_gate.release());
    REQUIRE(wait_until([&] { return f.script.calls_inside.load() == 0; }));
    CHECK(f.script.destroyed_of[1] == 0);
}

TEST_CASE("shutdown does not wait past its deadline for a stuck health()") {
    fixture f(short_deadlines);
    CHECK(f.slot.start(video_plan()).outcome == slot_outcome::accepted);
    REQUIRE(f.slot.wait_for_state({slot_state::Ready}, 5s));
    f.script.health_hangs = true;
    REQUIRE(f.script.health_gate.wait_inside(1));
    auto closed = std::async(std::launch::async, [&] { f.slot.shutdown(100ms); });
    CHECK(closed.wait_for(5s) == std::future_status::ready);
    // The let-go health thread returns into nothing of the slot.
    REQUIRE(f.script.health_gate.release());
    REQUIRE(wait_until([&] { return f.script.calls_inside.load() == 0; }));
    CHECK(f.script.destroyed_of[1] == 0);
}

TEST_CASE("a load that ignores the cancel of a stop is abandoned at the cancel deadline") {
    fixture f(short_deadlines);
    f.script.load_hangs = true;
    CHECK(f.slot.start(video_plan()).outcome == slot_outcome::accepted);
    REQUIRE(f.script.load_gate.wait_inside(1));
    CHECK(f.slot.stop(0ms).outcome == slot_outcome::accepted);
    REQUIRE(f.slot.wait_for_state({slot_state::Failed}, 5s));
    CHECK(f.slot.snapshot().error.find("plugin start ignored its cancel") != std::string::npos);
    f.script.load_hangs = false;
    CHECK(f.slot.start(video_plan()).outcome == slot_outcome::accepted);
    REQUIRE(f.slot.wait_for_state({slot_state::Ready}, 5s));
}

TEST_CASE("zero deadlines wait for a slow call instead of abandoning it") {
    fixture f(slot_deadlines{0ms, 0ms});
    CHECK(f.slot.start(video_plan()).outcome == slot_outcome::accepted);
    REQUIRE(f.slot.wait_for_state({slot_state::Ready}, 5s));
    f.script.generate_hangs = true;
    auto pending = f.slot.generate_async(video_call("slow"));
    REQUIRE(f.script.generate_gate.wait_inside(1));
    CHECK(f.slot.cancel("slow").outcome == slot_outcome::done);
    CHECK(pending.wait_for(300ms) == std::future_status::timeout); // nothing gives up on it
    CHECK(f.slot.snapshot().state == slot_state::Ready);
    REQUIRE(f.script.generate_gate.release());
    CHECK(pending.get().cancelled);
    CHECK(f.slot.snapshot().abandoned == 0);
}

TEST_CASE("a health failure's teardown is not skipped by a stop+start queued behind it (epoch race)") {
    // The teardown of a failed instance is queued behind a running generation. Before it runs,
    // the user stops (failed -> idle) and starts again. The teardown must still stop and destroy
    // the failed instance 1, and must not touch instance 2.
    fixture f; // long deadlines: the watchdog stays out of it
    CHECK(f.slot.start(video_plan()).outcome == slot_outcome::accepted);
    REQUIRE(f.slot.wait_for_state({slot_state::Ready}, 5s));
    f.script.generate_hangs = true;
    auto pending = f.slot.generate_async(video_call("busy"));
    REQUIRE(f.script.generate_gate.wait_inside(1));
    f.script.health_failed = true;
    REQUIRE(f.slot.wait_for_state({slot_state::Failed}, 5s));
    f.script.health_failed = false;
    CHECK(f.slot.stop(0ms).outcome == slot_outcome::done);           // failed -> idle at once
    CHECK(f.slot.start(video_plan()).outcome == slot_outcome::accepted); // its load queues behind the teardown
    CHECK(f.script.stops_of[1] == 0);                     // nothing ran yet: the worker is held
    f.script.generate_hangs = false;
    REQUIRE(f.script.generate_gate.release());
    CHECK(pending.get().cancelled); // the health failure cancelled the job
    REQUIRE(f.slot.wait_for_state({slot_state::Ready}, 5s));
    CHECK(f.script.created == 2);
    CHECK(f.script.stops_of[1] == 1);     // the failed instance was stopped ...
    CHECK(f.script.destroyed_of[1] == 1); // ... and destroyed
    CHECK(f.script.stops_of[2] == 0);     // the new one untouched
    CHECK(f.script.destroyed_of[2] == 0);
    CHECK(f.slot.generate(video_call()).status.ok());
}

TEST_CASE("shutdown under a generation that ignores cancel answers the caller and leaks, never destroys") {
    slot_script script;
    std::future<generate_reply> pending;
    {
        runtime_slot slot([&](const std::string &, std::string &) -> std::unique_ptr<slot_backend> {
            return std::make_unique<fake_backend>(script);
        }, nullptr, 20ms, slot_deadlines{30s, 30s});
        CHECK(slot.start(video_plan()).outcome == slot_outcome::accepted);
        REQUIRE(slot.wait_for_state({slot_state::Ready}, 5s));
        script.generate_hangs = true;
        pending = slot.generate_async(video_call("stuck"));
        REQUIRE(script.generate_gate.wait_inside(1));
        const auto t0 = std::chrono::steady_clock::now();
        slot.shutdown(200ms); // the host's patience, shorter than the 30 s cancel deadline
        CHECK(std::chrono::steady_clock::now() - t0 < 5s);
        REQUIRE(pending.wait_for(0s) == std::future_status::ready);
        const generate_reply reply = pending.get();
        CHECK_FALSE(reply.status.ok());
        CHECK(reply.status.message.find("after the host began shutting down") != std::string::npos);
        CHECK(slot.snapshot().abandoned == 1);
        CHECK(script.stops == 0);
        CHECK(script.destroyed == 0);
    } // the slot object is gone while the plugin call still runs
    REQUIRE(script.generate_gate.release());
    REQUIRE(wait_until([&] { return script.calls_inside.load() == 0; }));
    CHECK(script.destroyed == 0);
}

TEST_CASE("shutdown under a load that ignores cancel abandons it within the cancel deadline") {
    slot_script script;
    {
        runtime_slot slot([&](const std::string &, std::string &) -> std::unique_ptr<slot_backend> {
            return std::make_unique<fake_backend>(script);
        }, nullptr, 20ms, short_deadlines);
        script.load_hangs = true;
        CHECK(slot.start(video_plan()).outcome == slot_outcome::accepted);
        REQUIRE(script.load_gate.wait_inside(1));
        slot.shutdown(30s); // the 0.1 s cancel deadline ends it long before the host's patience
        const slot_snapshot snap = slot.snapshot();
        CHECK(snap.abandoned == 1);
        CHECK(snap.error.find("plugin start ignored its cancel for 0.1 s") != std::string::npos);
        CHECK(script.stops == 0);
        CHECK(script.destroyed == 0);
    }
    REQUIRE(script.load_gate.release());
    REQUIRE(wait_until([&] { return script.calls_inside.load() == 0; }));
    CHECK(script.destroyed == 0); // returned late, still never destroyed: it is not ours any more
}

TEST_CASE("shutdown under a cooperative generation cancels it, then stops and destroys the instance") {
    slot_script script;
    runtime_slot slot([&](const std::string &, std::string &) -> std::unique_ptr<slot_backend> {
        return std::make_unique<fake_backend>(script);
    }, nullptr, 20ms);
    CHECK(slot.start(video_plan()).outcome == slot_outcome::accepted);
    REQUIRE(slot.wait_for_state({slot_state::Ready}, 5s));
    script.generate_until_cancelled = true;
    auto pending = slot.generate_async(video_call("long"));
    REQUIRE(wait_until([&] { return slot.snapshot().job.has_value(); }));
    slot.shutdown(5s);
    CHECK(pending.get().cancelled);
    CHECK(script.stops == 1);
    CHECK(script.destroyed == 1);
    CHECK(slot.snapshot().abandoned == 0);
    CHECK(slot.generate(video_call()).refusal.outcome == slot_outcome::shutting_down);
}

}
