// Static file path resolution (no way out of the web root) and option parsing/precedence.
#include <doctest/doctest.h>

#include <algorithm>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

#include "api/auth.h"
#include "api/static_files.h"
#include "app/command_line.h"
#include "services/plugin_backend.h"
#include "config/option_table.h"

using namespace omnihost;
namespace fs = std::filesystem;

namespace {

struct web_root {
    fs::path base = fs::temp_directory_path() / ("omnihost-web-" + std::to_string(::getpid()));
    fs::path root = base / "web";
    web_root() {
        fs::remove_all(base);
        fs::create_directories(root / "js");
        std::ofstream(root / "index.html") << "<html>";
        std::ofstream(root / "js" / "app.js") << "x";
        std::ofstream(base / "secret.txt") << "secret";
        fs::create_symlink(base / "secret.txt", root / "leak.txt");
        fs::create_directory_symlink(base, root / "up");
    }
    ~web_root() { fs::remove_all(base); }
};

int status_of(const fs::path &root, const std::string &target) {
    int status = 200;
    std::string reason;
    return resolve_static_path(root, target, status, reason) ? 200 : status;
}

} // namespace

TEST_SUITE("static") {

TEST_CASE("files inside the root resolve; everything leading out is refused") {
    web_root web;
    CHECK(status_of(web.root, "/") == 200);
    CHECK(status_of(web.root, "/index.html") == 200);
    CHECK(status_of(web.root, "/js/app.js?v=3") == 200);
    CHECK(status_of(web.root, "/js/") == 404);
    CHECK(status_of(web.root, "/missing.css") == 404);
    CHECK(status_of(web.root, "/../secret.txt") == 403);
    CHECK(status_of(web.root, "/js/../../secret.txt") == 403);
    CHECK(status_of(web.root, "/%2e%2e/secret.txt") == 403);
    CHECK(status_of(web.root, "/%2E%2E/%2E%2E/etc/passwd") == 403);
    CHECK(status_of(web.root, "/..%2fsecret.txt") == 400);
    CHECK(status_of(web.root, "/js%2f..%2f..%2fsecret.txt") == 400);
    CHECK(status_of(web.root, "/..%5csecret.txt") == 400);
    CHECK(status_of(web.root, "/index.html%00.js") == 400);
    CHECK(status_of(web.root, "/..\\secret.txt") == 400);
    CHECK(status_of(web.root, "//etc/passwd") == 404); // "/etc/passwd" relative to the root: absent
    CHECK(status_of(web.root, "http://x/../../etc/passwd") == 400);
    CHECK(status_of(web.root, "/leak.txt") == 403);     // symlink out of the root
    CHECK(status_of(web.root, "/up/secret.txt") == 403); // directory symlink out of the root
    CHECK(status_of(web.root, "/%zz") == 400);
    CHECK(status_of(web.base / "nope", "/") == 404);
}

TEST_CASE("MIME types") {
    CHECK(mime_type_for("a.html") == "text/html; charset=utf-8");
    CHECK(mime_type_for("a.JS") == "text/javascript; charset=utf-8");
    CHECK(mime_type_for("a.css") == "text/css; charset=utf-8");
    CHECK(mime_type_for("a.svg") == "image/svg+xml");
    CHECK(mime_type_for("a.bin") == "application/octet-stream");
}

TEST_CASE("token comparison") {
    CHECK(constant_time_equals("abc", "abc"));
    CHECK_FALSE(constant_time_equals("abc", "abd"));
    CHECK_FALSE(constant_time_equals("abc", "abcd"));
    CHECK_FALSE(constant_time_equals("", "a"));
}

}

TEST_SUITE("options") {

TEST_CASE("defaults, flags in both spellings, config file, environment precedence") {
    ::unsetenv("OMNIHOST_TOKEN");
    auto defaults = parse_command_line({});
    CHECK(defaults.options.host == "127.0.0.1");
    CHECK(defaults.options.port == 8091);
    CHECK(defaults.options.default_recipe == "demo-wan-tiny");

    auto flags = parse_command_line({"--port", "0", "--plugin-dir=/p", "--log-level", "debug"});
    CHECK(flags.options.port == 0);
    CHECK(flags.options.plugin_dir == "/p");

    const fs::path config = fs::temp_directory_path() / ("omnihost-config-" + std::to_string(::getpid()) + ".json");
    std::ofstream(config) << R"({"port": 9001, "web_dir": "/w", "token": "from-file", "max-body-bytes": 4096})";
    auto from_file = parse_command_line({"--config", config.string()});
    CHECK(from_file.options.port == 9001);
    CHECK(from_file.options.web_dir == "/w");
    CHECK(from_file.options.token == "from-file");
    CHECK(from_file.options.max_body_bytes == 4096);
    // Flags win over the file wherever they appear on the line.
    CHECK(parse_command_line({"--port", "9002", "--config", config.string()}).options.port == 9002);
    ::setenv("OMNIHOST_TOKEN", "from-env", 1);
    CHECK(parse_command_line({"--config", config.string()}).options.token == "from-env");
    CHECK(parse_command_line({"--config", config.string(), "--token", "flag"}).options.token == "flag");
    ::unsetenv("OMNIHOST_TOKEN");
    fs::remove(config);
}

TEST_CASE("bad options are named") {
    auto message_of = [](std::vector<std::string> args) {
        try {
            parse_command_line(args);
        } catch (const options_error &e) {
            return e.message;
        }
        return std::string();
    };
    CHECK(message_of({"--port", "70000"}).find("--port") == 0);
    CHECK(message_of({"--port", "abc"}).find("not a non-negative integer") != std::string::npos);
    CHECK(message_of({"--port"}).find("needs a value") != std::string::npos);
    CHECK(message_of({"--colour", "red"}).find("unknown option 'colour'") != std::string::npos);
    CHECK(message_of({"stray"}).find("unexpected argument") != std::string::npos);
    CHECK(message_of({"--log-level", "loud"}).find("--log-level") == 0);
    CHECK(message_of({"--max-body-bytes", "10"}).find("--max-body-bytes") == 0);
    CHECK(message_of({"--config", "/nonexistent/x.json"}).find("cannot open") != std::string::npos);
    const fs::path config = fs::temp_directory_path() / ("omnihost-badconfig-" + std::to_string(::getpid()) + ".json");
    std::ofstream(config) << R"({"prot": 1})";
    CHECK(message_of({"--config", config.string()}).find("unknown key 'prot'") != std::string::npos);
    std::ofstream(config) << R"({"port": true})";
    CHECK(message_of({"--config", config.string()}).find("'port'") != std::string::npos);
    fs::remove(config);
}

TEST_CASE("--help lists every option of the table; the last of a repeated flag wins; values stay literal") {
    ::unsetenv("OMNIHOST_TOKEN");
    const std::string help = usage_text("omnihost");
    for (const auto &spec : option_table()) {
        CAPTURE(spec.name);
        CHECK(help.find("--" + spec.name) != std::string::npos);
        for (const auto &alias : spec.aliases) CHECK(help.find("--" + alias) != std::string::npos);
    }
    CHECK(help.find("--config") != std::string::npos);
    CHECK(help.find("-h, --help") != std::string::npos);
    CHECK(help.find("(default 8091)") != std::string::npos);
    CHECK(parse_command_line({"--help"}).show_help);
    CHECK(parse_command_line({"-h"}).show_help);

    CHECK(parse_command_line({"--port=9000", "--port", "9001"}).options.port == 9001);
    // No ${...} expansion of option text (the layered configuration could do it).
    CHECK(parse_command_line({"--token", "${HOME}"}).options.token == "${HOME}");
}

TEST_CASE("a flag takes no value on the command line and true/false in the config file") {
    const auto flag = std::find_if(option_table().begin(), option_table().end(),
                                   [](const option_spec &spec) { return spec.kind == option_kind::flag; });
    if (flag == option_table().end()) return; // no switch among the options
    const std::string name = flag->name;
    const host_options defaults;
    const std::string off = flag->show(defaults);
    const auto on = parse_command_line({"--" + name}).options;
    CHECK(flag->show(on) != off);
    const fs::path config = fs::temp_directory_path() / ("omnihost-flag-" + std::to_string(::getpid()) + ".json");
    std::ofstream(config) << "{\"" << name << "\": true}";
    CHECK(flag->show(parse_command_line({"--config", config.string()}).options) != off);
    std::ofstream(config) << "{\"" << name << "\": 3}";
    CHECK_THROWS_AS(parse_command_line({"--config", config.string()}), options_error);
    fs::remove(config);
}

TEST_CASE("an environment variable with a bad value is named") {
    ::setenv("OMNIHOST_TOKEN", "two words", 1);
    try {
        parse_command_line({});
        FAIL("a token with a space was accepted");
    } catch (const options_error &e) {
        CHECK(e.message.find("OMNIHOST_TOKEN") == 0);
    }
    ::unsetenv("OMNIHOST_TOKEN");
}

TEST_CASE("plugin_config from the config file reaches that plugin's create config, host keys win") {
    const fs::path config = fs::temp_directory_path() / ("omnihost-pconfig-" + std::to_string(::getpid()) + ".json");
    std::ofstream(config) << R"({"plugin_config": {"subprocess_proxy": {"vllm_binary": "/opt/vllm", "data_dir": "/evil"}}})";
    const auto options = parse_command_line({"--config", config.string(), "--data-dir", "/srv/data"}).options;
    plugin_loader::plugin_record proxy;
    proxy.manifest.id = "subprocess_proxy";
    proxy.manifest.manifest_path = "/p/subprocess_proxy.plugin.json";
    const auto created = nlohmann::json::parse(plugin_create_config(proxy, options.data_dir, options.plugin_config_json));
    CHECK(created["vllm_binary"] == "/opt/vllm");
    CHECK(created["data_dir"] == "/srv/data");
    CHECK(created["plugin_id"] == "subprocess_proxy");
    CHECK(created["plugin_dir"] == "/p");
    plugin_loader::plugin_record other;
    other.manifest.id = "video_diffusion";
    CHECK_FALSE(nlohmann::json::parse(plugin_create_config(other, "/d", options.plugin_config_json)).contains("vllm_binary"));
    std::ofstream(config) << R"({"plugin_config": {"x": 3}})";
    CHECK_THROWS_AS(parse_command_line({"--config", config.string()}), options_error);
    fs::remove(config);
}

}
