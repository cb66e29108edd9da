// The RAII instance wrapper driving the real plain-C test plugin: status -> loader_error (plugin_call), result
// ownership, progress/cancel/emit through job_binding, and plugin log lines reaching the log bus.
#include <log_bus.h>
#include <plugin_instance.h>
#include <registry.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <cstdio>
#include <cstring>
#include <fstream>
#include <mutex>
#include <thread>
#include <unistd.h>

using namespace omnihost::plugin_loader;
using nlohmann::json;

namespace {

std::shared_ptr<plugin_library> test_library() {
    static registry reg;
    static std::once_flag once;
    std::call_once(once, [] { reg.scan_dir(OMNIHOST_TEST_PLUGIN_DIR); });
    const plugin_record *rec = reg.find("test_plugin");
    REQUIRE(rec != nullptr);
    REQUIRE_MESSAGE(rec->available, rec->reason);
    return rec->library;
}

struct recorder {
    std::mutex mu;
    std::vector<std::string> logs, phases, events;
    host_binding host{[this](omnihost_log_level, std::string_view src, std::string_view msg) {
        std::lock_guard<std::mutex> l(mu);
        logs.push_back(std::string(src) + ": " + std::string(msg));
    }};
    job_binding::progress_fn progress() {
        return [this](int32_t step, int32_t total, std::string_view phase, std::string_view) {
            std::lock_guard<std::mutex> l(mu);
            phases.push_back(std::string(phase) + " " + std::to_string(step) + "/" + std::to_string(total));
        };
    }
    job_binding::emit_fn emit() {
        return [this](std::string_view ev) {
            std::lock_guard<std::mutex> l(mu);
            events.emplace_back(ev);
        };
    }
};

plugin_instance started(recorder &rec, const std::string &model_type, const std::string &extra = "") {
    auto inst = plugin_instance::create(test_library(), rec.host.table(), "{}");
    job_binding job("load-1", rec.progress());
    inst.start("{\"model\":\"tiny\",\"model_type\":\"" + model_type + "\"" + extra + "}", job.job());
    return inst;
}

std::string bytes(const result_handle &r) { return std::string(reinterpret_cast<const char *>(r.data()), r.size()); }

// The reason of the last failure status_of saw (the plugin wrote it into that call's error buffer).
std::string last_detail;

omnihost_status status_of(const std::function<void()> &call) {
    last_detail.clear();
    try {
        call();
    } catch (const loader_error &e) {
        last_detail = e.detail;
        return e.status;
    }
    return OMNIHOST_OK;
}

}  // namespace

TEST_SUITE("instance") {

TEST_CASE("start reports load progress and logs; health turns ready") {
    recorder rec;
    auto inst = plugin_instance::create(test_library(), rec.host.table(), "{}");
    CHECK(json::parse(inst.health())["ready"] == false);
    job_binding job("load-1", rec.progress());
    inst.start(R"({"model":"tiny","model_type":"video","test_load_ms":40,"test_load_steps":4})", job.job());
    auto h = json::parse(inst.health());
    CHECK(h["ready"] == true);
    CHECK(h["failed"] == false);
    CHECK(h["model"] == "tiny");
    CHECK(rec.phases == std::vector<std::string>{"load 1/4", "load 2/4", "load 3/4", "load 4/4"});
    REQUIRE(rec.logs.size() >= 2);
    CHECK(rec.logs.front() == "test_plugin: loading tiny (model_type video)");
    CHECK(rec.logs.back() == "test_plugin: ready");
    inst.stop();
    inst.stop();  // idempotent
    CHECK(json::parse(inst.health())["ready"] == false);
}

TEST_CASE("each task produces its real media type") {
    recorder rec;
    {
        auto inst = started(rec, "audio");
        job_binding job("g1", rec.progress());
        auto r = inst.generate(R"({"task":"audio","prompt":"rain","duration":0.25,"seed":7})", job.job());
        CHECK(r.mime_type() == "audio/wav");
        std::string b = bytes(r);
        REQUIRE(b.size() == 44 + 2 * 4000);
        CHECK(b.compare(0, 4, "RIFF") == 0);
        CHECK(b.compare(8, 8, "WAVEfmt ") == 0);
        auto meta = json::parse(r.metadata_json());
        CHECK(meta["seed"] == 7);
        CHECK(meta["sample_rate"] == 16000);
        CHECK(meta["prompt"] == "rain");
        // deterministic: the same request gives the same bytes
        auto again = inst.generate(R"({"task":"audio","prompt":"rain","duration":0.25,"seed":7})", job.job());
        CHECK(bytes(again) == b);
    }
    {
        auto inst = started(rec, "image");
        auto r = inst.generate(R"({"task":"image","prompt":"a cat","width":20,"height":10})", nullptr);
        CHECK(r.mime_type() == "image/png");
        std::string b = bytes(r);
        CHECK(b.compare(0, 8, "\x89PNG\r\n\x1a\n") == 0);
        CHECK(b.compare(12, 4, "IHDR") == 0);
        CHECK(b.compare(b.size() - 8, 4, "IEND") == 0);
        CHECK(json::parse(r.metadata_json())["width"] == 20);
    }
    {
        auto inst = started(rec, "video");
        auto r = inst.generate(R"({"task":"video","prompt":"waves","width":16,"height":8,"fps":4,"duration":1})", nullptr);
        CHECK(r.mime_type() == "video/x-yuv4mpeg");
        std::string b = bytes(r);
        CHECK(b.rfind("YUV4MPEG2 W16 H8 F4:1", 0) == 0);
        CHECK(json::parse(r.metadata_json())["frames"] == 4);
    }
    {
        auto inst = started(rec, "tts");
        auto r = inst.generate(R"({"task":"tts","text":"hello"})", nullptr);
        CHECK(r.mime_type() == "audio/wav");
    }
}

TEST_CASE("ffprobe reads the WAV, PNG and Y4M outputs") {
    recorder rec;
    struct sample { const char *model_type, *request, *ext, *expect; };
    const sample samples[] = {
        {"audio", R"({"task":"audio","duration":0.5})", "wav", "codec_name=pcm_s16le"},
        {"image", R"({"task":"image","width":12,"height":9})", "png", "width=12"},
        {"video", R"({"task":"video","width":16,"height":16,"fps":8,"duration":0.5})", "y4m", "codec_name=rawvideo"},
    };
    for (const auto &s : samples) {
        CAPTURE(s.model_type);
        auto inst = started(rec, s.model_type);
        auto r = inst.generate(s.request, nullptr);
        std::string path = "/tmp/omnihost_test_plugin_" + std::to_string(getpid()) + "." + s.ext;
        std::ofstream(path, std::ios::binary).write(reinterpret_cast<const char *>(r.data()), static_cast<std::streamsize>(r.size()));
        std::string cmd = "ffprobe -v error -show_streams " + path + " 2>&1";
        FILE *p = popen(cmd.c_str(), "r");
        REQUIRE_MESSAGE(p != nullptr, "ffprobe is required (Debian package ffmpeg)");
        std::string out;
        char buf[512];
        while (fgets(buf, sizeof buf, p)) out += buf;
        int rc = pclose(p);
        std::remove(path.c_str());
        CHECK_MESSAGE(rc == 0, out);
        CHECK_MESSAGE(out.find(s.expect) != std::string::npos, out);
    }
}

TEST_CASE("status codes become a plugin_call loader_error with the plugin's reason") {
    recorder rec;
    auto inst = plugin_instance::create(test_library(), rec.host.table(), "{}");
    try {
        inst.generate(R"({"task":"video"})", nullptr);
        FAIL("generate before start must throw");
    } catch (const loader_error &e) {
        CHECK(e.kind == loader_error_kind::plugin_call);
        CHECK(e.status == OMNIHOST_UNAVAILABLE);
        CHECK(e.detail == "not started: call start() first");
        CHECK(std::string(e.what()) == "test_plugin: generate failed (UNAVAILABLE): not started: call start() first");
    }
    CHECK(status_of([&] { inst.start(R"({"model_type":"video","run_mode":"container"})", nullptr); }) ==
          OMNIHOST_NOT_SUPPORTED);
    CHECK(last_detail.find("container mode is not available") != std::string::npos);
    CHECK(status_of([&] { inst.start(R"({"model_type":"hologram"})", nullptr); }) == OMNIHOST_INVALID_ARGUMENT);
    CHECK(last_detail.find("'model_type'") != std::string::npos);
    try {
        inst.start(R"({"model_type":"image","test_fail_start":"weights are corrupt"})", nullptr);
        FAIL("start must throw");
    } catch (const loader_error &e) {
        CHECK(e.status == OMNIHOST_INTERNAL);
        CHECK(e.detail == "weights are corrupt");
    }

    inst.start(R"({"model_type":"image"})", nullptr);
    CHECK(status_of([&] { inst.generate("{not json", nullptr); }) == OMNIHOST_INVALID_ARGUMENT);
    CHECK(status_of([&] { inst.generate(R"({"prompt":"x"})", nullptr); }) == OMNIHOST_INVALID_ARGUMENT);
    CHECK(last_detail == "field 'task' is required (a string)");
    CHECK(status_of([&] { inst.generate(R"({"task":"audio"})", nullptr); }) == OMNIHOST_NOT_SUPPORTED);
    CHECK(status_of([&] { inst.generate(R"({"task":"image","test_oom":true})", nullptr); }) == OMNIHOST_OUT_OF_MEMORY);
    try {
        inst.generate(R"({"task":"image","test_fail":"GPU fell off the bus"})", nullptr);
        FAIL("generate must throw");
    } catch (const loader_error &e) {
        CHECK(e.status == OMNIHOST_INTERNAL);
        CHECK(e.detail == "GPU fell off the bus");
    }
    // and it still works afterwards
    CHECK(inst.generate(R"({"task":"image"})", nullptr).size() > 0);
}

TEST_CASE("create with a bad config is a plugin_call loader_error carrying error_buf") {
    recorder rec;
    try {
        plugin_instance::create(test_library(), rec.host.table(), "{oops");
        FAIL("create must throw");
    } catch (const loader_error &e) {
        CHECK(e.kind == loader_error_kind::plugin_call);
        CHECK(e.status == OMNIHOST_INVALID_ARGUMENT);
        CHECK(e.detail == "create: config_json is not a JSON object");
    }
}

TEST_CASE("cancel from another thread stops a generation between steps") {
    recorder rec;
    auto inst = started(rec, "video");
    job_binding job("g-cancel", rec.progress());
    std::thread canceller([&] {
        for (;;) {  // wait for the first denoise step, then cancel
            {
                std::lock_guard<std::mutex> l(rec.mu);
                bool denoising = false;
                for (auto &p : rec.phases) denoising |= p.rfind("denoise", 0) == 0;
                if (denoising) break;
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(2));
        }
        job.request_cancel();
    });
    omnihost_status st = status_of([&] { inst.generate(R"({"task":"video","test_steps":1000,"test_step_ms":20})", job.job()); });
    canceller.join();
    CHECK(st == OMNIHOST_CANCELLED);
    size_t denoise_steps = 0;
    for (auto &p : rec.phases) denoise_steps += p.rfind("denoise", 0) == 0;
    CHECK(denoise_steps >= 1);
    CHECK(denoise_steps < 1000);  // it stopped between steps instead of finishing
    CHECK(last_detail == "generation cancelled");
    // a cancelled load too
    job_binding load("load-cancel");
    load.request_cancel();
    CHECK(status_of([&] { inst.start(R"({"model_type":"video","test_load_ms":10000})", load.job()); }) == OMNIHOST_CANCELLED);
}

TEST_CASE("fault knobs: a cancel noticed is counted, test_ignore_cancel runs on, test_hang_ms and test_stop_hang_ms block") {
    recorder rec;
    auto inst = started(rec, "image", R"(,"test_stop_hang_ms":50)");
    CHECK(json::parse(inst.health())["cancels_seen"] == 0);
    job_binding noticed("g-1");
    noticed.request_cancel();
    CHECK(status_of([&] { inst.generate(R"({"task":"image","test_steps":3})", noticed.job()); }) == OMNIHOST_CANCELLED);
    CHECK(json::parse(inst.health())["cancels_seen"] == 1);
    // Cancelled before it began, yet it runs every step and succeeds: the plugin never looked.
    job_binding deaf("g-2", rec.progress());
    deaf.request_cancel();
    auto r = inst.generate(R"({"task":"image","test_steps":3,"test_ignore_cancel":true})", deaf.job());
    CHECK(bytes(r).compare(0, 4, "\x89PNG") == 0);
    CHECK(json::parse(inst.health())["cancels_seen"] == 1);
    size_t denoise_steps = 0;
    for (auto &p : rec.phases) denoise_steps += p.rfind("denoise", 0) == 0;
    CHECK(denoise_steps == 3);
    // A hang blocks at least as long as asked (a lower bound, so no timing flake), cancel or not.
    job_binding stuck("g-3");
    stuck.request_cancel();
    auto t0 = std::chrono::steady_clock::now();
    CHECK(status_of([&] { inst.generate(R"({"task":"image","test_hang_ms":50})", stuck.job()); }) == OMNIHOST_CANCELLED);
    CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(50));
    t0 = std::chrono::steady_clock::now();
    inst.stop();
    CHECK(std::chrono::steady_clock::now() - t0 >= std::chrono::milliseconds(50));
    CHECK(json::parse(inst.health())["ready"] == false);
}

TEST_CASE("chat streams events through emit") {
    recorder rec;
    auto inst = started(rec, "omni");
    job_binding job("chat-1", rec.progress(), rec.emit());
    auto r = inst.generate(R"({"task":"chat","messages":[{"role":"user","content":"hi \"you\""}]})", job.job());
    CHECK(r.mime_type() == "text/plain; charset=utf-8");
    CHECK(bytes(r) == "test_plugin heard: hi \"you\"");
    std::string joined;
    for (auto &e : rec.events) joined += json::parse(e)["text"].get<std::string>();
    CHECK(joined == bytes(r));
    CHECK(rec.events.size() == 4);
}

TEST_CASE("results outlive the instance object and are released exactly once") {
    recorder rec;
    result_handle kept;
    {
        auto inst = started(rec, "image");
        kept = inst.generate(R"({"task":"image"})", nullptr);
        auto moved = inst.generate(R"({"task":"image"})", nullptr);
        result_handle other = std::move(moved);
        CHECK_FALSE(moved);
        CHECK(other);
        CHECK(json::parse(inst.health())["generations"] == 2);
    }  // the instance object is gone; destroy waits for `kept`
    REQUIRE(kept);
    CHECK(bytes(kept).compare(0, 4, "\x89PNG") == 0);
    kept.reset();
    CHECK_FALSE(kept);
}

TEST_CASE("health turns failed after test_fail_after_ms") {
    recorder rec;
    auto inst = started(rec, "tts", R"(,"test_fail_after_ms":30)");
    CHECK(json::parse(inst.health())["failed"] == false);
    // The failure is due 30 ms after the start; wait for it as a condition, not a guessed sleep.
    json h;
    for (auto end = std::chrono::steady_clock::now() + std::chrono::seconds(5);
         std::chrono::steady_clock::now() < end; std::this_thread::sleep_for(std::chrono::milliseconds(2))) {
        h = json::parse(inst.health());
        if (h["failed"] == true) break;
    }
    CHECK(h["failed"] == true);
    CHECK(h["ready"] == false);
    CHECK(status_of([&] { inst.generate(R"({"task":"tts","text":"x"})", nullptr); }) == OMNIHOST_UNAVAILABLE);
}

TEST_CASE("command_preview redacts secrets and names the model") {
    recorder rec;
    auto inst = plugin_instance::create(test_library(), rec.host.table(), "{}");
    auto preview = inst.command_preview(R"({"model":"m \"q\"","model_type":"image","hf_token":"hf_secret"})");
    REQUIRE(preview.has_value());
    CHECK(preview->find("hf_secret") == std::string::npos);
    auto j = json::parse(*preview);
    CHECK(j["kind"] == "inprocess");
    CHECK(j["env"]["HF_TOKEN"] == "***");
    CHECK(j["settings"]["model"] == "m \"q\"");
}

TEST_CASE("health may be polled from other threads during a generation") {
    recorder rec;
    auto inst = started(rec, "audio");
    std::atomic<bool> done{false};
    std::atomic<int> polls{0}, bad{0};
    std::thread poller([&] {
        while (!done || polls < 50) {
            try {
                auto h = json::parse(inst.health());
                if (!h.contains("ready")) ++bad;
            } catch (...) {
                ++bad;
            }
            ++polls;
        }
    });
    auto r = inst.generate(R"({"task":"audio","test_steps":5,"test_step_ms":5})", nullptr);
    done = true;
    poller.join();
    CHECK(bad == 0);
    CHECK(r.size() > 44);
}

TEST_CASE("plugin log lines reach the log bus through omnihost_log_bus_plugin_log") {
    omnihost::log_bus::bus bus;
    omnihost_host host{sizeof(omnihost_host), &bus, &omnihost_log_bus_plugin_log, nullptr};
    auto inst = plugin_instance::create(test_library(), host, "{}");
    inst.start(R"({"model":"tiny","model_type":"image"})", nullptr);
    auto backlog = bus.backlog();
    REQUIRE(backlog.size() >= 2);
    auto first = json::parse(backlog[0]->json);
    CHECK(first["type"] == "log");
    CHECK(first["source"] == "test_plugin");
    CHECK(first["level"] == "info");
    CHECK(first["message"] == "loading tiny (model_type image)");
    // NULL strings from a careless plugin do not crash the host
    omnihost_log_bus_plugin_log(&bus, 42, nullptr, nullptr);
    auto last = json::parse(bus.backlog().back()->json);
    CHECK(last["source"] == "plugin");
    CHECK(last["level"] == "info");
}

}  // TEST_SUITE
