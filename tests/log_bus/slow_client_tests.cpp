// Slow subscribers: producers never wait for them; their losses are counted and announced with a
// drop note placed exactly where the gap is.
#include <log_bus.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <thread>

using namespace omnihost::log_bus;
using nlohmann::json;
using namespace std::chrono_literals;

TEST_SUITE("slow_client") {

TEST_CASE("the drop note sits where the gap is") {
    bus b(bus_options{100, 2, log_level::trace});
    auto sub = b.subscribe(false);
    for (int i = 1; i <= 5; ++i) b.publish_log(log_level::info, "t", std::to_string(i));  // 3,4,5 dropped
    CHECK(sub->dropped_total() == 3);
    auto d = sub->next(0ms);
    REQUIRE(d);
    CHECK(d->item->seq == 1);
    b.publish_log(log_level::info, "t", "6");  // room again: note(3) then 6
    d = sub->next(0ms);
    REQUIRE(d);
    CHECK(d->item->seq == 2);
    d = sub->next(0ms);
    REQUIRE(d);
    CHECK_FALSE(d->item);
    CHECK(d->dropped == 3);
    CHECK(d->text() == R"({"type":"dropped","count":3})");
    d = sub->next(0ms);
    REQUIRE(d);
    CHECK(d->item->seq == 6);
    CHECK_FALSE(sub->next(0ms));
}

TEST_CASE("losses are announced even when nothing newer fits yet") {
    bus b(bus_options{100, 1, log_level::trace});
    auto sub = b.subscribe(false);
    b.publish_log(log_level::info, "t", "a");
    b.publish_log(log_level::info, "t", "b");
    CHECK(sub->next(0ms)->item->seq == 1);
    auto note = sub->next(0ms);
    REQUIRE(note);
    CHECK(note->dropped == 1);
    CHECK_FALSE(sub->next(0ms));
}

TEST_CASE("many producers, one stalled and one live subscriber: nobody blocks, every frame is accounted for") {
    constexpr int producers = 8;
    constexpr int per_producer = 20000;
    constexpr uint64_t total = uint64_t(producers) * per_producer;
    bus b(bus_options{1000, 64, log_level::trace});
    auto stalled = b.subscribe(false);  // never reads while producers run
    auto live = b.subscribe(false);

    std::atomic<bool> producers_done{false};
    uint64_t live_frames = 0, live_dropped = 0, last_seq = 0;
    bool ordered = true;
    std::thread reader([&] {
        for (;;) {
            auto d = live->next(20ms);
            if (!d) {
                if (producers_done && live->queued() == 0) {
                    // one last look: a trailing drop note may still be pending
                    if (auto tail = live->next(0ms)) {
                        if (tail->item) ++live_frames; else live_dropped += tail->dropped;
                        continue;
                    }
                    break;
                }
                continue;
            }
            if (d->item) {
                ordered &= d->item->seq > last_seq;
                last_seq = d->item->seq;
                ++live_frames;
            } else {
                live_dropped += d->dropped;
            }
        }
    });

    std::vector<std::thread> threads;
    for (int p = 0; p < producers; ++p)
        threads.emplace_back([&b, p] {
            for (int i = 0; i < per_producer; ++i) {
                if (i % 2) b.publish_log(log_level::info, "producer" + std::to_string(p), "line " + std::to_string(i));
                else b.publish_progress("job" + std::to_string(p), i, per_producer, "denoise", "");
            }
        });
    for (auto &t : threads) t.join();  // would hang here if a full subscriber blocked producers
    producers_done = true;
    reader.join();

    CHECK(b.stats().published == total);
    CHECK(ordered);
    CHECK(live_frames + live_dropped == total);
    CHECK(live->dropped_total() == live_dropped);

    // The stalled one kept exactly its queue's worth and counted the rest.
    CHECK(stalled->dropped_total() == total - 64);
    uint64_t frames = 0, announced = 0, prev = 0;
    while (auto d = stalled->next(0ms)) {
        if (d->item) {
            CHECK(d->item->seq > prev);
            prev = d->item->seq;
            ++frames;
        } else {
            announced += d->dropped;
        }
    }
    CHECK(frames == 64);
    CHECK(announced == total - 64);
    CHECK(b.stats().dropped_total == stalled->dropped_total() + live->dropped_total());
}

TEST_CASE("subscribers coming and going while producers run never deadlock") {
    bus b(bus_options{200, 32, log_level::trace});
    std::atomic<bool> stop{false};
    std::vector<std::thread> threads;
    for (int p = 0; p < 4; ++p)
        threads.emplace_back([&] {
            while (!stop) b.publish_log(log_level::info, "p", "x");
        });
    // Keep churning until the producers have really run alongside (the machine may be busy).
    auto give_up = std::chrono::steady_clock::now() + 60s;
    int round = 0;
    while ((round < 200 || b.stats().published < 20000) && std::chrono::steady_clock::now() < give_up) {
        auto s = b.subscribe(round % 2 == 0);
        for (int i = 0; i < 10; ++i) s->next(0ms);
        if (round % 50 == 0) b.close_all_subscribers();
        ++round;
    }
    stop = true;
    for (auto &t : threads) t.join();
    CHECK(b.stats().subscribers == 0);
    CHECK(b.stats().published >= 20000);
}

}  // TEST_SUITE
