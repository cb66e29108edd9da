// spdlog -> bus: logger name becomes the source, levels map, and direct publishes echo to the
// console sink without the sink's own lines coming back twice.
#include <log_bus.h>
#include <spdlog_sink.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>

#include <sstream>

using namespace omnihost::log_bus;
using nlohmann::json;

TEST_SUITE("spdlog_sink") {

TEST_CASE("every spdlog line lands on the bus with its logger name and level") {
    bus b;
    auto logger = std::make_shared<spdlog::logger>("host", make_spdlog_sink(b));
    logger->set_level(spdlog::level::trace);
    logger->info("listening on {}:{}", "127.0.0.1", 8091);
    logger->warn("slow");
    logger->error("broken");
    logger->debug("detail");
    logger->critical("dying");
    auto frames = b.backlog();
    REQUIRE(frames.size() == 5);
    auto first = json::parse(frames[0]->json);
    CHECK(first["source"] == "host");
    CHECK(first["level"] == "info");
    CHECK(first["message"] == "listening on 127.0.0.1:8091");
    CHECK(json::parse(frames[1]->json)["level"] == "warn");
    CHECK(json::parse(frames[2]->json)["level"] == "error");
    CHECK(json::parse(frames[3]->json)["level"] == "debug");
    CHECK(json::parse(frames[4]->json)["level"] == "critical");
}

TEST_CASE("the logger's level filters before the bus") {
    bus b;
    auto logger = std::make_shared<spdlog::logger>("quiet", make_spdlog_sink(b));
    logger->set_level(spdlog::level::warn);
    logger->info("dropped by spdlog");
    logger->warn("kept");
    REQUIRE(b.backlog().size() == 1);
    CHECK(json::parse(b.backlog()[0]->json)["message"] == "kept");
}

TEST_CASE("direct publishes echo to the console sink; spdlog lines are not echoed twice") {
    bus b;
    std::ostringstream console;
    auto console_sink = std::make_shared<spdlog::sinks::ostream_sink_mt>(console);
    console_sink->set_pattern("[%n] %l %v");
    b.set_echo_sink(console_sink);
    auto logger = std::make_shared<spdlog::logger>("host", spdlog::sinks_init_list{console_sink, make_spdlog_sink(b)});
    logger->info("from spdlog");
    b.publish_log(log_level::warn, "test_plugin", "from a plugin");
    b.publish_process_output("vllm", "from a child\n");
    std::string out = console.str();
    CHECK(out == "[host] info from spdlog\n[test_plugin] warning from a plugin\n[vllm] info from a child\n");
    CHECK(b.backlog().size() == 3);
}

}  // TEST_SUITE
