// The in-process plugins' download on start (plugins/inprocess_common/model_download.*) against
// the stand-in hub: the start job's progress ("download" phase, in KiB, ending at the total),
// log lines through the host table, the plugin status codes of each refusal.
#include <doctest/doctest.h>

#include "inprocess_error.h"
#include "model_download.h"
#include "model_roots.h"
#include "test_fixture.h"

#include <functional>
#include <mutex>

using namespace hub_test;
namespace fs = std::filesystem;
namespace inprocess = omnihost::inprocess;

namespace {

const char *const kId = kPipelineId;  // what pipeline_fixture serves

struct recorder {
    std::mutex m;
    std::vector<std::string> lines;
    struct step {
        int done, total;
        std::string phase, message;
    };
    std::vector<step> steps;
    bool cancel_after_first = false;
};

void on_log(void *user, omnihost_log_level, const char *, const char *message) {
    auto *r = static_cast<recorder *>(user);
    std::lock_guard lock(r->m);
    r->lines.push_back(message);
}
void on_progress(void *user, int32_t step, int32_t total, const char *phase, const char *message) {
    auto *r = static_cast<recorder *>(user);
    std::lock_guard lock(r->m);
    r->steps.push_back({step, total, phase ? phase : "", message ? message : ""});
}
int32_t on_cancelled(void *user) {
    auto *r = static_cast<recorder *>(user);
    std::lock_guard lock(r->m);
    return r->cancel_after_first && !r->steps.empty() && r->steps.back().done > 0;
}

struct plugin_side {
    recorder rec;
    omnihost_host host{};
    omnihost_job job{};
    inprocess::instance_core core;
    plugin_side() : core(make_host(), "video_diffusion") {
        job.struct_size = sizeof job;
        job.job_id = "start-1";
        job.user_data = &rec;
        job.progress = on_progress;
        job.is_cancelled = on_cancelled;
    }
    const omnihost_host *make_host() {
        host.struct_size = sizeof host;
        host.user_data = &rec;
        host.log = on_log;
        return &host;
    }
};

// The status of a plugin error, whether the error type keeps it as a field or behind a getter.
template <class E> omnihost_status status_value(const E &e) {
    if constexpr (requires { e.status(); }) return e.status();
    else return e.status;
}

omnihost_status status_of(const std::function<void()> &f, std::string *message = nullptr) {
    try {
        f();
    } catch (const inprocess::plugin_error &e) {
        if (message) *message = e.what();
        return status_value(e);
    }
    return OMNIHOST_OK;
}

}  // namespace

TEST_SUITE("hub_plugin") {

TEST_CASE_FIXTURE(pipeline_fixture, "a hub id missing from the cache is downloaded on start, with progress and log lines") {
    serve_as_endpoint();
    plugin_side p;
    const fs::path data = cache.root / "data";
    CHECK(inprocess::download_if_missing(kId, data, {}, "video_diffusion", p.core, &p.job));
    // Now resolvable, and a second start downloads nothing.
    CHECK(inprocess::resolve_model(kId, data, {}, "video_diffusion").label == kId);
    CHECK(!inprocess::download_if_missing(kId, data, {}, "video_diffusion", p.core, &p.job));

    REQUIRE(!p.rec.steps.empty());
    for (const auto &s : p.rec.steps) CHECK(s.phase == "download");
    CHECK(p.rec.steps.back().done == p.rec.steps.back().total);
    uint64_t bytes = 0;  // what the pipeline needs (the fixture marks what it does not)
    for (const auto &[path, content] : small_pipeline().files)
        if (path.find(".fp16.") == std::string::npos && path != "README.md" && path.find(".bin") == std::string::npos &&
            path != "model.safetensors" && path.rfind("extras/", 0) != 0)
            bytes += content.size();
    CHECK(p.rec.steps.back().total == int(bytes / 1024));
    for (std::size_t i = 1; i < p.rec.steps.size(); ++i) CHECK(p.rec.steps[i].done >= p.rec.steps[i - 1].done);
    CHECK(p.rec.steps.back().message.find("file 8/8") != std::string::npos);
    bool per_file = false, summary = false;
    for (const auto &l : p.rec.lines) {
        per_file = per_file || l.find("transformer/diffusion_pytorch_model.safetensors: downloaded") != std::string::npos;
        summary = summary || l.find(std::string("downloaded ") + kId) != std::string::npos;
    }
    CHECK(per_file);
    CHECK(summary);
}

TEST_CASE_FIXTURE(pipeline_fixture, "local folders and paths are never downloaded") {
    serve_as_endpoint();
    plugin_side p;
    const fs::path data = cache.root / "data";
    fs::create_directories(data / kId);  // "test-org/tiny-pipe" is also a folder under data_dir
    CHECK(!inprocess::download_if_missing(kId, data, {}, "video_diffusion", p.core, &p.job));
    CHECK(!inprocess::download_if_missing((data / "elsewhere").string(), data, {}, "video_diffusion", p.core, &p.job));
    CHECK(hub.requests().empty());
}

TEST_CASE_FIXTURE(pipeline_fixture, "refusals map to plugin statuses with clear messages") {
    auto gated = small_pipeline();
    gated.gated_token = "hf_ok";
    hub.add_repo("test-org/gated", gated);
    serve_as_endpoint();
    plugin_side p;
    const fs::path data = cache.root / "data";
    std::string msg;
    auto start = [&](const std::string &id) { return [&, id] { inprocess::download_if_missing(id, data, {}, "video_diffusion", p.core, &p.job); }; };

    CHECK(status_of(start("test-org/gated"), &msg) == OMNIHOST_INVALID_ARGUMENT);
    CHECK(msg.rfind("model: ", 0) == 0);
    CHECK(msg.find(hub.endpoint() + "/test-org/gated") != std::string::npos);

    hub.corrupt("vae/config.json");
    CHECK(status_of(start(kId), &msg) == OMNIHOST_UNAVAILABLE);
    CHECK(msg.find("download failed") != std::string::npos);

    p.rec.cancel_after_first = true;
    CHECK(status_of(start(kId)) == OMNIHOST_CANCELLED);
    p.rec.cancel_after_first = false;

    // A model that is nowhere (a mistyped local path reads as before), and a hub that cannot be
    // reached: the resolver's not-found list, with the hub as the last place looked.
    const std::string not_found = "model: model 'test-org/absent' was not found; looked in:";
    CHECK(status_of(start("test-org/absent"), &msg) == OMNIHOST_INVALID_ARGUMENT);
    CHECK(msg.rfind(not_found, 0) == 0);
    CHECK(msg.find("the Hugging Face hub: ") != std::string::npos);
    cache.env.set("HF_ENDPOINT", "http://127.0.0.1:1");
    CHECK(status_of(start("test-org/absent"), &msg) == OMNIHOST_INVALID_ARGUMENT);
    CHECK(msg.rfind(not_found, 0) == 0);
    CHECK(msg.find("could not ask http://127.0.0.1:1") != std::string::npos);
    cache.env.set("HF_ENDPOINT", hub.endpoint());

    cache.env.set("HF_HUB_OFFLINE", "1");
    CHECK(status_of(start(kId), &msg) == OMNIHOST_INVALID_ARGUMENT);
    CHECK(msg.find("--no-download") != std::string::npos);
    CHECK(msg.rfind("model: model '" + std::string(kId) + "' was not found; looked in:", 0) == 0);
}

}
