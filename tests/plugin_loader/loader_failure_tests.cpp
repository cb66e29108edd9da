// Every loader failure case: each broken plugin is listed unavailable with its specific reason,
// in the same registry where the good test plugin stays available and usable.
#include <plugin_instance.h>
#include <registry.h>

#include <doctest/doctest.h>

#include <map>
#include <string>

using namespace omnihost::plugin_loader;

namespace {

const std::filesystem::path good_dir = OMNIHOST_TEST_PLUGIN_DIR;
const std::filesystem::path bad_dir = OMNIHOST_BAD_PLUGIN_DIR;

// case (subfolder and plugin id) -> a piece of the reason that only that failure produces
const std::map<std::string, std::string> expected_reasons = {
    {"bad_missing_library", "library file not found: "},
    {"bad_missing_symbol", "missing entry symbol 'omnihost_plugin_get_entry'"},
    {"bad_abi_major", "built for plugin ABI 99.0, but this host speaks ABI 1.x; rebuild the plugin against omnihost_plugin.h 1.0"},
    {"bad_id_mismatch", "manifest id 'bad_id_mismatch' does not match library id 'some_other_id'"},
    {"bad_version_mismatch", "manifest version '0.2.0' does not match library version '0.1.0'"},
    {"bad_create_fails", "create() failed (INTERNAL): this test plugin always fails create()"},
    {"bad_null_member", "entry member 'generate' is NULL"},
    {"bad_small_struct", "entry struct_size 20 is smaller than"},
    {"bad_unresolved", "undefined symbol: omnihost_test_symbol_that_does_not_exist"},
    {"bad_invalid_json", "invalid JSON"},
    {"bad_invalid_field", "field 'routes[0].run_mode': 'docker' must be one of subprocess, container, remote"},
};

}  // namespace

TEST_SUITE("loader_failures") {

TEST_CASE("the build produced every fixture") {
    REQUIRE(std::filesystem::exists(good_dir / "test_plugin.plugin.json"));
    REQUIRE(std::filesystem::exists(good_dir / "libtest_plugin.so"));
    for (const auto &[name, reason] : expected_reasons)
        REQUIRE_MESSAGE(std::filesystem::exists(bad_dir / name / (name + ".plugin.json")), name);
}

TEST_CASE("each bad plugin is unavailable with its reason; the good one stays available") {
    registry reg;
    std::vector<std::string> scanned;
    scan_options opts;
    opts.on_scanned = [&](const plugin_record &r) { scanned.push_back(r.manifest.id); };
    REQUIRE(reg.scan_dir(good_dir, opts));
    for (const auto &[name, reason] : expected_reasons) REQUIRE(reg.scan_dir(bad_dir / name, opts));
    CHECK(scanned.size() == expected_reasons.size() + 1);
    REQUIRE(reg.plugins().size() == expected_reasons.size() + 1);

    for (const auto &[name, reason] : expected_reasons) {
        CAPTURE(name);
        const plugin_record *rec = reg.find(name);
        REQUIRE(rec != nullptr);
        CHECK_FALSE(rec->available);
        CHECK(rec->library == nullptr);
        CHECK_MESSAGE(rec->reason.find(reason) != std::string::npos, "reason was: " << rec->reason);
        auto j = rec->to_json();
        CHECK(j["available"] == false);
        CHECK(j["reason"] == rec->reason);
    }

    const plugin_record *good = reg.find("test_plugin");
    REQUIRE(good != nullptr);
    CHECK(good->available);
    CHECK(good->reason.empty());
    CHECK(good->to_json()["reason"].is_null());
    // Still usable after all the failures around it.
    host_binding host([](omnihost_log_level, std::string_view, std::string_view) {});
    auto inst = plugin_instance::create(good->library, host.table(), "{}");
    CHECK(inst.health().find("\"ready\":false") != std::string::npos);
}

TEST_CASE("ABI checks read only what the plugin declared") {
    registry reg;
    reg.scan_dir(good_dir);
    const plugin_record *good = reg.find("test_plugin");
    REQUIRE(good != nullptr);
    REQUIRE(good->available);
    CHECK(good->library->entry_bytes_read() == sizeof(omnihost_plugin_entry));
    CHECK(reinterpret_cast<const void *>(good->library->entry().command_preview) != nullptr);
    CHECK(required_entry_size() < sizeof(omnihost_plugin_entry));
}

TEST_CASE("plugin_library::load errors directly") {
    registry reg;
    reg.scan_dir(bad_dir / "bad_missing_symbol", scan_options{nullptr, {}, false, {}});
    REQUIRE(reg.plugins().size() == 1);
    plugin_manifest m = reg.plugins()[0].manifest;
    CHECK_THROWS_WITH_AS(plugin_library::load(m), doctest::Contains("missing entry symbol"), loader_error);
    m.library_path = bad_dir / "nope.so";
    CHECK_THROWS_WITH_AS(plugin_library::load(m), doctest::Contains("library file not found"), loader_error);
}

TEST_CASE("a missing plugin folder adds nothing and says so") {
    registry reg;
    CHECK_FALSE(reg.scan_dir(bad_dir / "no_such_folder"));
    CHECK(reg.plugins().empty());
}

TEST_CASE("a duplicate id is refused, the first stays") {
    registry reg;
    reg.scan_dir(good_dir);
    reg.add_manifest(good_dir / "test_plugin.plugin.json");
    REQUIRE(reg.plugins().size() == 2);
    CHECK(reg.plugins()[0].available);
    CHECK_FALSE(reg.plugins()[1].available);
    CHECK(reg.plugins()[1].reason.find("duplicate plugin id 'test_plugin'") != std::string::npos);
    CHECK(reg.find("test_plugin") == &reg.plugins()[0]);
}

}  // TEST_SUITE
