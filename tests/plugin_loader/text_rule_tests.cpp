// The host's caller side of the ABI's buffer rules (plugin_instance): text answers longer than its
// first buffer are read whole by asking again, a plugin that misreports out_len or gives no reason
// is named, and health() is safe from many threads at once with no host-side lock.
#include <plugin_instance.h>
#include <registry.h>

#include <doctest/doctest.h>
#include <nlohmann/json.hpp>

#include <atomic>
#include <string>
#include <thread>
#include <vector>

using namespace omnihost::plugin_loader;
using nlohmann::json;

namespace {

std::shared_ptr<plugin_library> library_in(const std::string &dir, const std::string &id) {
    static registry reg;  // keeps every library loaded for the whole test run
    if (!reg.find(id)) reg.scan_dir(dir, scan_options{nullptr, {}, false, {}});
    const plugin_record *rec = reg.find(id);
    REQUIRE(rec != nullptr);
    REQUIRE_MESSAGE(rec->available, rec->reason);
    return rec->library;
}

host_binding &quiet_host() {
    static host_binding host([](omnihost_log_level, std::string_view, std::string_view) {});
    return host;
}

std::string bad_dir(const std::string &name) { return std::string(OMNIHOST_BAD_PLUGIN_DIR) + "/" + name; }

}  // namespace

TEST_SUITE("text_rule") {

TEST_CASE("a health answer longer than the first buffer is read whole") {
    auto inst = plugin_instance::create(library_in(OMNIHOST_TEST_PLUGIN_DIR, "test_plugin"), quiet_host().table());
    inst.start(R"({"model":"tiny","model_type":"image","test_health_pad":100000})", nullptr);
    const json h = json::parse(inst.health());
    CHECK(h["ready"] == true);
    CHECK(h["pad"].get<std::string>().size() == 100000);
}

TEST_CASE("health from many threads at once, while generate runs, with no host lock") {
    auto inst = plugin_instance::create(library_in(OMNIHOST_TEST_PLUGIN_DIR, "test_plugin"), quiet_host().table());
    inst.start(R"({"model":"tiny","model_type":"image","test_health_pad":3000})", nullptr);
    std::atomic<bool> done{false};
    std::atomic<int> bad{0}, calls{0};
    std::vector<std::thread> pollers;
    for (int t = 0; t < 4; ++t)
        pollers.emplace_back([&] {
            while (!done || calls < 200) {
                try {
                    const json h = json::parse(inst.health());
                    if (h["pad"].get<std::string>().size() != 3000) ++bad;
                } catch (...) {
                    ++bad;
                }
                ++calls;
            }
        });
    for (int i = 0; i < 5; ++i) inst.generate(R"({"task":"image","prompt":"x","test_steps":3,"test_step_ms":2})", nullptr);
    done = true;
    for (auto &t : pollers) t.join();
    CHECK(bad == 0);
    CHECK(calls >= 200);
}

TEST_CASE("a plugin whose out_len disagrees with its text is named, not trusted") {
    auto inst = plugin_instance::create(library_in(bad_dir("bad_text_length"), "bad_text_length"), quiet_host().table());
    try {
        inst.health();
        FAIL("health must throw");
    } catch (const loader_error &e) {
        CHECK(e.status == OMNIHOST_INTERNAL);
        CHECK(e.detail == "out_len disagrees with the NUL-terminated text");
    }
}

TEST_CASE("a failure without a reason still says so") {
    auto inst = plugin_instance::create(library_in(bad_dir("bad_no_reason"), "bad_no_reason"), quiet_host().table());
    inst.start("{}", nullptr);
    try {
        inst.generate(R"({"task":"video"})", nullptr);
        FAIL("generate must throw");
    } catch (const loader_error &e) {
        CHECK(e.status == OMNIHOST_NOT_SUPPORTED);
        CHECK(e.detail == "no reason given");
    }
}

TEST_CASE("the reason of a failed call belongs to that call") {
    auto inst = plugin_instance::create(library_in(OMNIHOST_TEST_PLUGIN_DIR, "test_plugin"), quiet_host().table());
    // Two failures with different reasons from two threads: each call gets its own text back.
    std::string a, b;
    std::thread t1([&] {
        try {
            inst.generate(R"({"task":"image"})", nullptr);
        } catch (const loader_error &e) {
            a = e.detail;
        }
    });
    t1.join();
    inst.start(R"({"model_type":"image"})", nullptr);
    std::thread t2([&] {
        try {
            inst.generate(R"({"task":"image","test_fail":"second reason"})", nullptr);
        } catch (const loader_error &e) {
            b = e.detail;
        }
    });
    t2.join();
    CHECK(a == "not started: call start() first");
    CHECK(b == "second reason");
}

}  // TEST_SUITE
