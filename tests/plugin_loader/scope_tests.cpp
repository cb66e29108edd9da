// Plugins are loaded in LOCAL symbol scope: two plugins exporting the same symbol each keep their
// own. The control case (in a forked child, so this process stays clean) loads the first one
// RTLD_GLOBAL and shows the second one then binds to the wrong symbol — the test can tell.
#include <plugin_instance.h>
#include <registry.h>

#include <doctest/doctest.h>

#include <dlfcn.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace omnihost::plugin_loader;

namespace {

const std::filesystem::path scope_dir = OMNIHOST_SCOPE_PLUGIN_DIR;

std::string probe_of(const registry &reg, const char *id) {
    const plugin_record *rec = reg.find(id);
    REQUIRE(rec != nullptr);
    REQUIRE_MESSAGE(rec->available, rec->reason);
    host_binding host([](omnihost_log_level, std::string_view, std::string_view) {});
    auto inst = plugin_instance::create(rec->library, host.table(), "{}");
    std::string health = inst.health();
    auto at = health.find("probe=");
    REQUIRE(at != std::string::npos);
    return health.substr(at + 6, 1);
}

}  // namespace

TEST_SUITE("symbol_scope") {

TEST_CASE("same-named exported symbols do not cross between plugins") {
    REQUIRE(std::filesystem::exists(scope_dir / "libscope_a.so"));
    REQUIRE(std::filesystem::exists(scope_dir / "libscope_b.so"));
    registry reg;
    reg.scan_dir(scope_dir);  // a first, then b (sorted)
    CHECK(probe_of(reg, "scope_a") == "a");
    CHECK(probe_of(reg, "scope_b") == "b");
}

TEST_CASE("control: with the first plugin in GLOBAL scope the second binds to its symbol") {
    pid_t pid = fork();
    REQUIRE(pid >= 0);
    if (pid == 0) {
        // Child: make scope_a's symbols global, as RTLD_GLOBAL loading would.
        void *a = dlopen((scope_dir / "libscope_a.so").c_str(), RTLD_NOW | RTLD_GLOBAL);
        if (!a) _exit(3);
        registry reg;
        reg.add_manifest(scope_dir / "scope_b.plugin.json");
        const plugin_record *b = reg.find("scope_b");
        if (!b || !b->available) _exit(4);
        host_binding host([](omnihost_log_level, std::string_view, std::string_view) {});
        auto inst = plugin_instance::create(b->library, host.table(), "{}");
        _exit(inst.health().find("probe=a") != std::string::npos ? 0 : 5);  // 0 = the symbols crossed
    }
    int status = 0;
    waitpid(pid, &status, 0);
    REQUIRE(WIFEXITED(status));
    CHECK_MESSAGE(WEXITSTATUS(status) == 0, "exit " << WEXITSTATUS(status) << " (5: no cross-binding even in global scope)");
}

}  // TEST_SUITE
