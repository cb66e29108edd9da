// GET /metrics on the real binary: the answer is strict Prometheus text (checked by a parser in
// this folder, not by string matching), requests are counted under route templates whatever path
// a client sends, a generation shows up as steps, a load time and a count, and the token rule
// is the same as /api's.
#include <doctest/doctest.h>

#include <chrono>
#include <random>
#include <set>

#include "host_process.h"
#include "prometheus_text_parser.h"

using namespace omnihost_test;
using nlohmann::json;

namespace {

prom_exposition scrape(int port, const std::string &token = "") {
    const auto answer = get(port, "/metrics", token);
    REQUIRE_MESSAGE(answer.status == 200, answer.body);
    CHECK(answer.headers.at("Content-Type").rfind("text/plain; version=0.0.4", 0) == 0);
    try {
        return parse_prometheus_text(answer.body);
    } catch (const std::exception &e) {
        FAIL(e.what() << "\n" << answer.body);
    }
    return {};
}

double sum_of(const prom_exposition &e, const std::string &family, const std::map<std::string, std::string> &labels = {}) {
    double total = 0;
    for (const auto &s : e.find(family, labels)) total += s.value;
    return total;
}

// Polls the scrape until `ready` says yes or the deadline passes (the load watcher records a
// load on its own thread, a moment after the status turned ready).
template <typename Pred>
prom_exposition scrape_until(int port, Pred ready, double seconds = 10) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    prom_exposition e = scrape(port);
    while (!ready(e) && std::chrono::steady_clock::now() < deadline) e = scrape(port);
    return e;
}

} // namespace

TEST_SUITE("http_metrics") {

TEST_CASE("the scrape is strict Prometheus text with the host's families") {
    host_process host;
    const auto e = scrape(host.port());
    for (const char *family : {"omnihost_http_requests_total", "omnihost_http_request_duration_seconds",
                               "omnihost_generation_step_seconds", "omnihost_model_load_seconds", "omnihost_slot_state",
                               "omnihost_log_bus_dropped_frames_total", "process_resident_memory_bytes"}) {
        CAPTURE(family);
        CHECK(e.families.count(family) == 1);
    }
    CHECK(e.families.at("omnihost_http_request_duration_seconds").type == "histogram");
    CHECK(e.families.at("omnihost_http_requests_total").type == "counter");
    CHECK(e.value("omnihost_slot_state", {{"state", "idle"}}) == 1);
    CHECK(e.value("omnihost_slot_state", {{"state", "ready"}}) == 0);
    CHECK(e.value("process_resident_memory_bytes") > 1e6);
    // The first scrape is counted once it is answered: the second one sees it.
    const auto again = scrape(host.port());
    CHECK(again.value("omnihost_http_requests_total", {{"route", "/metrics"}, {"method", "GET"}, {"status", "200"}}) >= 1);
    CHECK(again.value("omnihost_http_request_duration_seconds_count", {{"route", "/metrics"}, {"method", "GET"}}) >= 1);
    CHECK(http(host.port(), "POST", "/metrics", "{}").status == 405);
}

TEST_CASE("random paths and methods do not grow the label sets") {
    host_process host;
    const int port = host.port();
    std::mt19937 rng(7);
    std::set<std::string> sent;
    const char *prefixes[] = {"/", "/api/", "/api/omni/", "/v1/", "/v1/videos/", "/ws/", "/assets/"};
    for (int i = 0; i < 300; ++i) {
        std::string token = "r";
        token += std::to_string(rng());
        token += 'x';
        sent.insert(token);
        std::string path = std::string(prefixes[i % 7]) + token;
        if (i % 11 == 0) path += "/content";
        const char *method = i % 5 == 0 ? "BREW" : i % 3 == 0 ? "POST" : "GET";
        http(port, method, path, i % 3 == 0 ? "{}" : "");
    }
    const auto e = scrape(port);
    std::set<std::string> routes, methods, statuses;
    size_t series = 0;
    for (const auto &s : e.find("omnihost_http_requests_total")) {
        ++series;
        routes.insert(s.labels.at("route"));
        methods.insert(s.labels.at("method"));
        statuses.insert(s.labels.at("status"));
    }
    CHECK(series <= 40);
    CHECK(routes.size() <= 8);
    for (const auto &route : routes) {
        CAPTURE(route);
        for (const auto &token : sent) REQUIRE(route.find(token) == std::string::npos);
    }
    CHECK(routes.count("static") == 1);
    CHECK(routes.count("unmatched") == 1);
    CHECK(routes.count("/v1/videos/{id}") == 1);
    CHECK(routes.count("/v1/videos/{id}/content") == 1);
    CHECK(methods.count("BREW") == 0);
    CHECK(methods.count("other") == 1);
    CHECK(sum_of(e, "omnihost_http_requests_total") >= 300);
}

TEST_CASE("a generation is counted: load time, per-step times, route and slot state") {
    host_process host;
    const int port = host.port();
    const auto started = post(port, "/api/omni/start",
                              {{"model", "test/video-model"}, {"model_type", "video"}, {"run_mode", "subprocess"}});
    REQUIRE_MESSAGE(started.status == 202, started.body);
    REQUIRE(wait_for_state(port, "ready").value("state", "") == "ready");
    auto e = scrape_until(port, [](const prom_exposition &x) {
        return !x.find("omnihost_model_load_seconds_count").empty() && x.value("omnihost_model_load_seconds_count") >= 1;
    });
    CHECK(e.value("omnihost_model_load_seconds_count") == 1);
    CHECK(e.value("omnihost_model_last_load_seconds") >= 0);
    CHECK(e.value("omnihost_slot_state", {{"state", "ready"}}) == 1);
    const double steps_before = e.value("omnihost_generation_step_seconds_count");

    const auto video = post(port, "/api/omni/generate-video",
                            {{"prompt", "count me"}, {"test_steps", 5}, {"test_step_ms", 20}});
    REQUIRE_MESSAGE(video.status == 200, video.body);
    e = scrape(port);
    // Five steps: the first report starts the clock, the next four are timed (at least).
    CHECK(e.value("omnihost_generation_step_seconds_count") - steps_before >= 4);
    CHECK(e.value("omnihost_generation_step_seconds_sum") > 0.06);
    CHECK(e.value("omnihost_http_requests_total",
                  {{"route", "/api/omni/generate-video"}, {"method", "POST"}, {"status", "200"}}) == 1);
    // The playground's synchronous endpoint runs it as a job: the job families count it.
    e = scrape_until(port, [](const prom_exposition &x) {
        return !x.find("omnihost_job_duration_seconds_count", {{"task", "video"}, {"state", "succeeded"}}).empty();
    });
    CHECK(e.value("omnihost_job_duration_seconds_count", {{"task", "video"}, {"state", "succeeded"}}) == 1);
    CHECK(e.value("omnihost_job_queue_wait_seconds_count", {{"task", "video"}}) == 1);
    CHECK(e.value("omnihost_jobs", {{"state", "succeeded"}}) == 1);
    CHECK(e.value("omnihost_jobs", {{"state", "queued"}}) == 0);
    CHECK(e.value("omnihost_job_queue_depth") == 0);
    CHECK(e.value("omnihost_job_queue_capacity") >= 1);
    // Nothing of the request (prompt, job id) is a label anywhere.
    const auto raw = get(port, "/metrics").body;
    CHECK(raw.find("count me") == std::string::npos);
    CHECK(raw.find(video.json().value("job_id", "no-id")) == std::string::npos);
}

TEST_CASE("/metrics needs the token when the host has one") {
    host_process host({.extra_args = {"--token", "metrics-token"}});
    CHECK(get(host.port(), "/metrics").status == 401);
    CHECK(get(host.port(), "/metrics", "wrong").status == 401);
    const auto e = scrape(host.port(), "metrics-token");
    CHECK(e.families.count("omnihost_slot_state") == 1);
}

}
