// The pieces of the browser boundary and the operator limits, without a server: Host header
// parsing, the allow-lists built from options, the new options, and the limit arithmetic.
#include <doctest/doctest.h>

#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "api/browser_guard.h"
#include "api/operator_limits.h"
#include "app/access_token.h"
#include "app/command_line.h"

using namespace omnihost;
using nlohmann::json;
namespace fs = std::filesystem;

TEST_SUITE("boundary") {

TEST_CASE("Host header: host part, lower-cased, port and brackets removed; malformed is nullopt") {
    CHECK(host_of_header("localhost:8091") == "localhost");
    CHECK(host_of_header("LocalHost") == "localhost");
    CHECK(host_of_header("localhost.:80") == "localhost");
    CHECK(host_of_header("[::1]:8091") == "::1");
    CHECK(host_of_header("[::1]") == "::1");
    CHECK(host_of_header("127.0.0.1") == "127.0.0.1");
    CHECK_FALSE(host_of_header(""));
    CHECK_FALSE(host_of_header("::1"));              // IPv6 needs brackets
    CHECK_FALSE(host_of_header("a b:80"));
    CHECK_FALSE(host_of_header("localhost:80x"));
    CHECK_FALSE(host_of_header("localhost:"));
    CHECK_FALSE(host_of_header("[::1"));
    CHECK_FALSE(host_of_header("[::1]x"));
    CHECK_FALSE(host_of_header("user@localhost"));
}

TEST_CASE("policy: loopback names always, the bound address, the operator's names") {
    host_options options;
    options.allowed_hosts = {"Omni.Example.LAN"};
    options.allowed_origins = {"https://studio.example"};
    const browser_policy policy = make_browser_policy(options, "127.0.0.1", false);
    for (const char *name : {"localhost", "127.0.0.1", "::1", "omni.example.lan"})
        CHECK(std::find(policy.hosts.begin(), policy.hosts.end(), name) != policy.hosts.end());
    CHECK(std::find(policy.hosts.begin(), policy.hosts.end(), "0.0.0.0") == policy.hosts.end());
    CHECK_FALSE(policy.any_host);
    CHECK(policy.origins == std::vector<std::string>{"https://studio.example:443"});

    host_options wildcard;
    wildcard.host = "0.0.0.0";
    const browser_policy wide = make_browser_policy(wildcard, "0.0.0.0", true);
    CHECK(std::find(wide.hosts.begin(), wide.hosts.end(), "0.0.0.0") == wide.hosts.end());
    CHECK(std::find(wide.hosts.begin(), wide.hosts.end(), "127.0.0.1") != wide.hosts.end());

    host_options any;
    any.allowed_hosts = {"*"};
    any.allowed_origins = {"*"};
    const browser_policy open = make_browser_policy(any, "127.0.0.1", false);
    CHECK(open.any_host);
    CHECK(open.any_origin);
}

TEST_CASE("security headers: CSP without inline allowances, connect-src names only a plain host") {
    auto find = [](const std::vector<std::pair<std::string, std::string>> &headers, const std::string &name) {
        for (const auto &[key, value] : headers)
            if (key == name) return value;
        return std::string();
    };
    const auto headers = security_headers("127.0.0.1:8091");
    const std::string csp = find(headers, "Content-Security-Policy");
    CHECK(csp.find("default-src 'self'") != std::string::npos);
    CHECK(csp.find("frame-ancestors 'none'") != std::string::npos);
    CHECK(csp.find("ws://127.0.0.1:8091") != std::string::npos);
    CHECK(csp.find("unsafe") == std::string::npos);
    CHECK(find(headers, "X-Frame-Options") == "DENY");
    CHECK(find(headers, "Referrer-Policy") == "no-referrer");
    CHECK(find(headers, "X-Content-Type-Options") == "nosniff");
    // A header that could smuggle a directive is never echoed.
    CHECK(find(security_headers("x; script-src *"), "Content-Security-Policy").find("script-src *") == std::string::npos);
}

TEST_CASE("generated tokens: 64 hex digits, different every time; loopback detection") {
    const std::string a = generate_access_token(), b = generate_access_token();
    CHECK(a.size() == 64);
    CHECK(a.find_first_not_of("0123456789abcdef") == std::string::npos);
    CHECK(a != b);
    CHECK_FALSE(is_reachable_beyond_loopback("127.0.0.1"));
    CHECK_FALSE(is_reachable_beyond_loopback("127.1.2.3"));
    CHECK_FALSE(is_reachable_beyond_loopback("::1"));
    CHECK(is_reachable_beyond_loopback("0.0.0.0"));
    CHECK(is_reachable_beyond_loopback("::"));
    CHECK(is_reachable_beyond_loopback("192.168.1.5"));
    const auto urls = access_urls("0.0.0.0", true, 8091, "abc");
    REQUIRE(!urls.empty());
    CHECK(urls.back() == "http://127.0.0.1:8091/?token=abc");
    CHECK(access_urls("192.168.1.5", false, 80, "t") == std::vector<std::string>{"http://192.168.1.5:80/?token=t"});
}

TEST_CASE("options: lists, caps and limits from flags and the config file") {
    ::unsetenv("OMNIHOST_TOKEN");
    const auto defaults = parse_command_line({}).options;
    CHECK(defaults.max_connections == 64);
    CHECK(defaults.max_ws_clients == 16);
    CHECK(defaults.allowed_hosts.empty());
    CHECK(defaults.limits.max_steps == 200);

    const auto flags = parse_command_line({"--allowed-hosts", "a.lan, b.lan", "--allowed-origins", "https://x.example/",
                                           "--max-connections", "10", "--max-ws-clients", "3", "--max-steps", "7",
                                           "--max-duration", "2.5", "--max-http-threads", "12"}).options;
    CHECK(flags.allowed_hosts == std::vector<std::string>{"a.lan", "b.lan"});
    CHECK(flags.allowed_origins == std::vector<std::string>{"https://x.example"});
    CHECK(flags.max_connections == 12); // the old name, given last, wins
    CHECK(flags.max_ws_clients == 3);
    CHECK(flags.limits.max_steps == 7);
    CHECK(flags.limits.max_duration == 2.5);

    const fs::path config = fs::temp_directory_path() / ("omnihost-boundary-" + std::to_string(::getpid()) + ".json");
    std::ofstream(config) << R"({"allowed_hosts": ["c.lan"], "max_pixels": 4096, "max_duration": 0.5})";
    const auto from_file = parse_command_line({"--config", config.string()}).options;
    CHECK(from_file.allowed_hosts == std::vector<std::string>{"c.lan"});
    CHECK(from_file.limits.max_pixels == 4096);
    CHECK(from_file.limits.max_duration == 0.5);
    // The config file goes through the bounded parser: a deep one is refused, naming the file.
    std::ofstream(config) << std::string(1000, '[') << std::string(1000, ']');
    try {
        parse_command_line({"--config", config.string()});
        FAIL("a 1000-deep config file was accepted");
    } catch (const options_error &e) {
        CHECK(e.message.find("deeper than 64") != std::string::npos);
    }
    fs::remove(config);

    CHECK_THROWS_AS(parse_command_line({"--allowed-hosts", "http://x"}), options_error);
    CHECK_THROWS_AS(parse_command_line({"--allowed-origins", "x.example"}), options_error);
    CHECK_THROWS_AS(parse_command_line({"--max-ws-clients", "64"}), options_error);
    CHECK_THROWS_AS(parse_command_line({"--max-duration", "0"}), options_error);
    CHECK_THROWS_AS(parse_command_line({"--max-frames", "0"}), options_error);
}

}

TEST_SUITE("limits") {

TEST_CASE("generation limits: each names its field; at the limit passes") {
    operator_limits limits;
    limits.max_steps = 10;
    limits.max_pixels = 100;
    limits.max_frames = 20;
    limits.max_duration = 4;
    limits.max_samples = 2;
    auto field_of = [&](const json &request) {
        auto error = check_generation_limits(request, limits);
        return error ? error->field : std::string();
    };
    CHECK(field_of({{"num_inference_steps", 10}, {"height", 10}, {"width", 10}, {"duration", 2}, {"fps", 10}}) == "");
    CHECK(field_of({{"num_inference_steps", 11}}) == "num_inference_steps");
    CHECK(field_of({{"height", 10}, {"width", 11}}) == "height");
    CHECK(field_of({{"duration", 4.5}}) == "duration");
    CHECK(field_of({{"audio_duration", 5}}) == "audio_duration");
    CHECK(field_of({{"duration", 3}, {"fps", 7}}) == "duration"); // 21 frames
    CHECK(field_of({{"num_frames", 21}, {"duration", 3}, {"fps", 7}}) == "num_frames");
    CHECK(field_of({{"num_frames", 20}, {"duration", 3}, {"fps", 7}}) == ""); // num_frames wins
    CHECK(field_of({{"num_images_per_prompt", 3}}) == "num_images_per_prompt");
    CHECK(field_of({{"max_pixels", 1000}}) == "max_pixels");
    CHECK(field_of({{"num_inference_steps", nullptr}}) == "");
    const auto error = check_generation_limits({{"num_inference_steps", 11}}, limits);
    REQUIRE(error);
    CHECK(error->status == 400);
    CHECK(error->message.find("--max-steps") != std::string::npos);
}

TEST_CASE("start limits: the plugin gets the operator's value, or less when the request asks") {
    operator_limits limits;
    limits.max_pixels = 5000;
    limits.max_frames = 50;
    const json parameters = {{"max_pixels", {{"type", "integer"}}}, {"max_frames", {{"type", "integer"}}}};
    json start = {{"model", "m"}, {"max_pixels", 921600}, {"max_frames", 241}}; // plugin defaults filled
    CHECK_FALSE(apply_start_limits(start, json::object(), parameters, limits));
    CHECK(start["max_pixels"] == 5000);
    CHECK(start["max_frames"] == 50);

    json asked_less = {{"max_pixels", 100}};
    json start2 = {{"max_pixels", 100}};
    CHECK_FALSE(apply_start_limits(start2, asked_less, parameters, limits));
    CHECK(start2["max_pixels"] == 100);
    CHECK(start2["max_frames"] == 50);

    json start3 = json::object();
    auto error = apply_start_limits(start3, {{"max_pixels", 1000000000000LL}}, parameters, limits);
    REQUIRE(error);
    CHECK(error->field == "max_pixels");
    // A plugin without such parameters gets nothing added.
    json start4 = {{"model", "m"}};
    CHECK_FALSE(apply_start_limits(start4, json::object(), json::object(), limits));
    CHECK(start4 == json{{"model", "m"}});
}

}
