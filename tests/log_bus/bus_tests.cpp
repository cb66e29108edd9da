// The bus itself: frame JSON, seq order, ring-buffer bound, backlog-then-live, fan-out.
#include <log_bus.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <regex>
#include <thread>

using namespace omnihost::log_bus;
using nlohmann::json;
using namespace std::chrono_literals;

namespace {

json next_json(subscriber &s) {
    auto d = s.next(2000ms);
    REQUIRE(d.has_value());
    return json::parse(d->text());
}

}  // namespace

TEST_SUITE("bus") {

TEST_CASE("log and progress frames carry the contract's fields") {
    bus b;
    CHECK(b.publish_log(log_level::warn, "video_diffusion", "low memory") == 1);
    CHECK(b.publish_progress("job-7", 3, 50, "denoise", "step 3/50") == 2);
    auto frames = b.backlog();
    REQUIRE(frames.size() == 2);
    auto log = json::parse(frames[0]->json);
    CHECK(log["type"] == "log");
    CHECK(log["seq"] == 1);
    CHECK(log["level"] == "warn");
    CHECK(log["source"] == "video_diffusion");
    CHECK(log["message"] == "low memory");
    CHECK(std::regex_match(log["time"].get<std::string>(),
                           std::regex(R"(\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z)")));
    auto prog = json::parse(frames[1]->json);
    CHECK(prog["type"] == "progress");
    CHECK(prog["seq"] == 2);
    CHECK(prog["job_id"] == "job-7");
    CHECK(prog["step"] == 3);
    CHECK(prog["total"] == 50);
    CHECK(prog["phase"] == "denoise");
    CHECK(prog["message"] == "step 3/50");
    CHECK(frames[1]->is_progress);
}

TEST_CASE("time is ISO-8601 UTC with milliseconds") {
    using namespace std::chrono;
    system_clock::time_point tp = system_clock::time_point(milliseconds(1795827723456LL));
    CHECK(format_time_utc(tp) == "2026-11-28T01:02:03.456Z");
    CHECK(format_time_utc(system_clock::time_point(milliseconds(0))) == "1970-01-01T00:00:00.000Z");
}

TEST_CASE("strings are escaped and invalid UTF-8 cannot break the JSON") {
    bus b;
    b.publish_log(log_level::info, "vllm", "quote \" backslash \\ newline \n tab \t bell \x07");
    b.publish_log(log_level::info, "vllm", std::string("bad utf8 \xff\xfe end"));
    auto frames = b.backlog();
    CHECK(json::parse(frames[0]->json)["message"] == "quote \" backslash \\ newline \n tab \t bell \x07");
    std::string second = json::parse(frames[1]->json)["message"];
    CHECK(second.rfind("bad utf8 ", 0) == 0);
    CHECK(second.find(" end") != std::string::npos);
}

TEST_CASE("the ring buffer keeps only the newest backlog_capacity frames") {
    bus b(bus_options{10, 100, log_level::trace});
    for (int i = 1; i <= 25; ++i) b.publish_log(log_level::info, "t", "line " + std::to_string(i));
    auto frames = b.backlog();
    REQUIRE(frames.size() == 10);
    for (size_t i = 0; i < frames.size(); ++i) CHECK(frames[i]->seq == 16 + i);
    CHECK(b.stats().published == 25);
    CHECK(b.stats().backlog == 10);
}

TEST_CASE("a new subscriber gets the backlog first, then live frames, seq strictly increasing") {
    bus b(bus_options{5, 100, log_level::trace});
    for (int i = 1; i <= 8; ++i) b.publish_log(log_level::info, "t", "old " + std::to_string(i));
    auto sub = b.subscribe();
    CHECK(sub->queued() == 5);
    b.publish_lifecycle("starting model x");
    b.publish_progress("j", 1, 2, "load", "");
    uint64_t last = 0;
    std::vector<std::string> messages;
    for (int i = 0; i < 7; ++i) {
        auto j = next_json(*sub);
        CHECK(j["seq"].get<uint64_t>() > last);
        last = j["seq"];
        messages.push_back(j.value("message", ""));
    }
    CHECK(messages.front() == "old 4");
    CHECK(messages[4] == "old 8");
    CHECK(messages[5] == "starting model x");
    CHECK(last == 10);
    CHECK_FALSE(sub->next(20ms).has_value());  // nothing more
}

TEST_CASE("without backlog only live frames arrive") {
    bus b;
    b.publish_log(log_level::info, "t", "before");
    auto sub = b.subscribe(false);
    b.publish_log(log_level::info, "t", "after");
    CHECK(next_json(*sub)["message"] == "after");
}

TEST_CASE("subscribe is atomic with publishing: no frame is missed or duplicated") {
    bus b(bus_options{100000, 100000, log_level::trace});
    std::atomic<bool> stop{false};
    std::thread producer([&] {
        int i = 0;
        while (!stop) b.publish_log(log_level::info, "p", std::to_string(i++));
    });
    // Subscribe while the producer is publishing: after it has published some frames and before
    // it publishes some more (counted, not timed).
    auto wait_published = [&](uint64_t count) {
        while (b.stats().published < count) std::this_thread::yield();
    };
    wait_published(1000);
    auto sub = b.subscribe();
    wait_published(b.stats().published + 1000);
    stop = true;
    producer.join();
    uint64_t expected = 1, got = 0;
    while (auto d = sub->next(0ms)) {
        REQUIRE(d->item);
        CHECK(d->item->seq == expected);
        ++expected;
        ++got;
    }
    CHECK(got == b.stats().published);
}

TEST_CASE("many subscribers each get every frame in order") {
    bus b(bus_options{100, 10000, log_level::trace});
    std::vector<std::unique_ptr<subscriber>> subs;
    for (int i = 0; i < 50; ++i) subs.push_back(b.subscribe());
    CHECK(b.stats().subscribers == 50);
    for (int i = 0; i < 500; ++i) b.publish_log(log_level::info, "t", std::to_string(i));
    for (auto &s : subs) {
        uint64_t want = 1;
        while (auto d = s->next(0ms)) {
            REQUIRE(d->item);
            CHECK(d->item->seq == want++);
        }
        CHECK(want == 501);
        CHECK(s->dropped_total() == 0);
    }
    subs.resize(10);  // destroyed subscribers leave the bus
    CHECK(b.stats().subscribers == 10);
}

TEST_CASE("process output is split into lines; CR redraws keep the last state") {
    bus b;
    b.publish_process_output("vllm", "INFO first line\r\nsecond\n\n  \nprogress 10%\rprogress 50%\rprogress 100%\n");
    auto frames = b.backlog();
    std::vector<std::string> lines;
    for (auto &f : frames) lines.push_back(json::parse(f->json)["message"]);
    CHECK(lines == std::vector<std::string>{"INFO first line", "second", "  ", "progress 100%"});
    CHECK(json::parse(frames[0]->json)["source"] == "vllm");
}

TEST_CASE("min_level filters direct publishes") {
    bus b(bus_options{100, 100, log_level::info});
    CHECK(b.publish_log(log_level::debug, "t", "hidden") == 0);
    CHECK(b.publish_log(log_level::error, "t", "shown") == 1);
    b.set_min_level(log_level::trace);
    CHECK(b.publish_log(log_level::trace, "t", "now shown") == 2);
}

TEST_CASE("close_all_subscribers wakes a waiting reader") {
    bus b;
    auto sub = b.subscribe();
    std::atomic<bool> reading{false};
    std::thread closer([&] {
        while (!reading) std::this_thread::yield();
        b.close_all_subscribers();
    });
    // Only close_all_subscribers can end this wait: if it did not wake the reader, the test hangs
    // and CTest's TIMEOUT fails it. (Should the close win the race to the wait, next() sees a closed,
    // drained subscriber and answers the same at once.)
    reading = true;
    auto d = sub->next(std::chrono::hours(1));
    closer.join();
    CHECK_FALSE(d.has_value());
    CHECK(sub->closed());
    CHECK(b.stats().subscribers == 0);
}

TEST_CASE("a subscriber may outlive the bus") {
    std::unique_ptr<subscriber> sub;
    {
        bus b;
        sub = b.subscribe();
        b.publish_log(log_level::info, "t", "last words");
    }
    auto d = sub->next(0ms);
    REQUIRE(d.has_value());  // frames already queued are still readable
    CHECK(json::parse(d->text())["message"] == "last words");
    CHECK_FALSE(sub->next(0ms).has_value());
    CHECK(sub->closed());
}

}  // TEST_SUITE
