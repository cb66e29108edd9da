// The conformance kit must FAIL broken plugins, naming the check, with a non-zero exit code, and
// pass the good one. (A kit that always passes would prove nothing.)
#include <doctest/doctest.h>

#include <cstdio>
#include <string>
#include <sys/wait.h>

namespace {

struct run_result {
    int exit_code = -1;
    std::string out;
};

run_result run_kit(const std::string &args) {
    std::string cmd = std::string(OMNIHOST_CONFORMANCE_BIN) + " " + args + " 2>&1";
    FILE *p = popen(cmd.c_str(), "r");
    REQUIRE(p != nullptr);
    run_result r;
    char buf[1024];
    while (fgets(buf, sizeof buf, p)) r.out += buf;
    int status = pclose(p);
    r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    return r;
}

std::string bad(const std::string &name) {
    return std::string(OMNIHOST_BAD_PLUGIN_DIR) + "/" + name + "/lib" + name + ".so";
}

}  // namespace

TEST_SUITE("kit") {

TEST_CASE("the test plugin passes, including a full cycle") {
    auto r = run_kit(std::string(OMNIHOST_TEST_PLUGIN) +
                     R"( --start-json '{"model_type":"image"}' --generate-json '{"task":"image","test_step_ms":2}')");
    CHECK_MESSAGE(r.exit_code == 0, r.out);
    CHECK(r.out.find("FAIL") == std::string::npos);
    CHECK(r.out.find(" passed, 0 failed") != std::string::npos);
    CHECK(r.out.find("ok   - generate with is_cancelled() != 0 returns CANCELLED") != std::string::npos);
}

TEST_CASE("each broken plugin fails the check it breaks") {
    struct expectation { const char *plugin; const char *line; };
    const expectation cases[] = {
        {"bad_missing_symbol", "FAIL - exports entry symbol omnihost_plugin_get_entry: not found"},
        {"bad_abi_major", "FAIL - abi_major matches the host: plugin 99.0, host 1.0"},
        {"bad_small_struct", "FAIL - struct_size covers the 1.0 members: struct_size 20"},
        {"bad_null_member", "FAIL - required members are non-NULL: 'generate' is NULL"},
        {"bad_id_mismatch", "FAIL - manifest id equals entry id: manifest 'bad_id_mismatch', library 'some_other_id'"},
        {"bad_version_mismatch", "FAIL - manifest version equals entry version: manifest '0.2.0', library '0.1.0'"},
        {"bad_create_fails", "FAIL - create(\"{}\") succeeds: status 6: this test plugin always fails create()"},
        {"bad_unresolved", "FAIL - library loads with RTLD_NOW|RTLD_LOCAL: "},
        {"bad_text_overflow", "FAIL - health before start: a small out_cap cuts the text snprintf-style: status 0, wrote past out_cap 8"},
        {"bad_text_length", "FAIL - health before start: OK, out_len equals the NUL-terminated text's length: status 0"},
        {"bad_error_overflow", "FAIL - a failing call respects error_cap: status 2"},
        {"bad_no_reason", "FAIL - a failing call explains itself in error_buf: reason \"(nothing written)\""},
    };
    for (const auto &c : cases) {
        CAPTURE(c.plugin);
        auto r = run_kit(bad(c.plugin));
        CHECK(r.exit_code == 1);
        CHECK_MESSAGE(r.out.find(c.line) != std::string::npos, r.out);
        CHECK(r.out.find(" failed\n") != std::string::npos);
    }
}

TEST_CASE("a plugin that crashes is reported with the check it crashed in, exit code 2") {
    // Not WILL_FAIL: the kit must survive the crash, name the check, and exit 2 (not 0, not 1).
    auto r = run_kit(bad("bad_crash_health"));
    CHECK_MESSAGE(r.exit_code == 2, r.out);
    CHECK_MESSAGE(r.out.find("FAIL - crash (signal) during check: health before start") != std::string::npos, r.out);
    CHECK(r.out.find(" passed, ") == std::string::npos);  // it never got to the summary
}

TEST_CASE("the plain-C drop-in plugin passes, including a full cycle") {
    auto r = run_kit(std::string(OMNIHOST_DROPIN_PLUGIN) +
                     R"( --start-json '{"model_type":"image"}' --generate-json '{"task":"image","prompt":"x","sharpness_knob":5}')");
    CHECK_MESSAGE(r.exit_code == 0, r.out);
    CHECK(r.out.find("FAIL") == std::string::npos);
    CHECK(r.out.find("ok   - health/command_preview from another thread during generate") != std::string::npos);
}

TEST_CASE("behaviour violations are caught, not only table defects") {
    // bad_version_mismatch works apart from its version, but its generate() answers NOT_SUPPORTED
    // before start and never produces a result.
    auto r = run_kit(bad("bad_version_mismatch") + R"( --start-json '{}' --generate-json '{"task":"video"}')");
    CHECK(r.exit_code == 1);
    CHECK_MESSAGE(r.out.find("FAIL - generate before start returns UNAVAILABLE: status 2") != std::string::npos, r.out);
    CHECK_MESSAGE(r.out.find("FAIL - generate succeeds: status 2") != std::string::npos, r.out);
    CHECK_MESSAGE(r.out.find("FAIL - create with invalid config JSON fails cleanly") != std::string::npos, r.out);
}

TEST_CASE("a missing manifest is a failure, and --manifest is honoured") {
    auto r = run_kit(bad("bad_version_mismatch") + " --manifest /nonexistent.plugin.json");
    CHECK(r.out.find("FAIL - manifest found: cannot read /nonexistent.plugin.json") != std::string::npos);
    CHECK(r.exit_code == 1);
}

TEST_CASE("usage errors exit 64") {
    CHECK(run_kit("").exit_code == 64);
    CHECK(run_kit("a.so --bogus").exit_code == 64);
}

}  // TEST_SUITE
