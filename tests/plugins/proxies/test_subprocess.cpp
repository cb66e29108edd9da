// subprocess_proxy through its C ABI with the stand-in behind the `vllm` shim on PATH: real
// processes, real HTTP. Lifecycle, readiness, log streaming, crash/exit detection, stop escalation,
// group kill (no orphans), env and argv, venv variant, preview == executed argv.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "plugin_harness.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <thread>

using nlohmann::json;
using namespace proxytest;
using namespace std::chrono_literals;

namespace {

json start_json(int port, json extra = json::object()) {
    json j = {{"model", "Tongyi-MAI/Z-Image-Turbo"}, {"model_type", "image"}, {"run_mode", "subprocess"}, {"port", port}};
    j.update(extra);
    return j;
}

json standin_info(int port) { return http_json("GET", "http://127.0.0.1:" + std::to_string(port) + "/standin/info"); }

std::string temp_dir(const std::string& tag) {
    auto d = std::filesystem::temp_directory_path() / ("omnihost-proxy-" + tag + "-" + std::to_string(getpid()));
    std::filesystem::create_directories(d);
    return d.string();
}

std::pair<int, int> read_pids(const std::string& file) {
    std::ifstream f(file);
    int a = 0, b = 0;
    f >> a >> b;
    return {a, b};
}

}  // namespace

TEST_CASE("lifecycle: start, ready, log streaming, generate image and chat, stop") {
    put_vllm_shim_on_path();
    plugin_under_test p("subprocess_proxy");
    REQUIRE(p.create({{"env", {{"OMNIHOST_STANDIN_STARTUP_DELAY_MS", "1500"}}}}) == OMNIHOST_OK);
    CHECK(p.health()["ready"] == false);
    const int port = free_port();
    harness_job job;
    REQUIRE_MESSAGE(p.start(start_json(port), &job) == OMNIHOST_OK,
                    (p.last_error() + "\n" + p.logs.dump()));
    // readiness was polled with progress while the server "loaded"
    CHECK(job.progress_count() >= 1);
    auto msgs = job.progress_messages();
    CHECK(msgs.front().rfind("load ", 0) == 0);
    json h = p.health();
    CHECK(h["ready"] == true);
    CHECK(h["failed"] == false);
    CHECK(h["run_mode"] == "subprocess");
    // uvicorn lines reached the bus, line by line, with source "vllm"
    // (uvicorn's own lines come on stderr, vLLM's and the access log on stdout: both are read)
    CHECK(p.logs.wait_for("vllm", "Uvicorn running on http://127.0.0.1:" + std::to_string(port), 2s));
    CHECK(p.logs.contains("vllm", "Loading weights"));

    gen_result img = p.generate({{"task", "image"}, {"prompt", "a red fox"}, {"width", 48}, {"height", 32}, {"num_inference_steps", 4}, {"guidance_scale", 1.0}, {"seed", 7}});
    REQUIRE_MESSAGE(img.status == OMNIHOST_OK, img.error);
    CHECK(img.mime == "image/png");
    CHECK(img.bytes.substr(1, 3) == "PNG");
    CHECK(img.metadata["endpoint"] == "/v1/chat/completions");
    // the access log of that request arrived too
    CHECK(p.logs.wait_for("vllm", "\"POST /v1/chat/completions HTTP/1.1\" 200", 2s));

    harness_job chat_job;
    gen_result chat = p.generate({{"task", "chat"}, {"messages", json::array({{{"role", "user"}, {"content", "ping"}}})}}, &chat_job);
    REQUIRE_MESSAGE(chat.status == OMNIHOST_OK, chat.error);
    CHECK(chat.metadata["text"] == "Hello from the stand-in. You said: ping");
    auto events = chat_job.events();
    REQUIRE(events.size() >= 3);
    CHECK(json::parse(events.front()).contains("text"));
    CHECK(json::parse(events.back()).contains("audio"));
    CHECK(json::parse(events.back())["audio_format"] == "audio/wav");

    gen_result tts = p.generate({{"task", "tts"}, {"text", "hello"}, {"voice", "Ryan"}});
    REQUIRE_MESSAGE(tts.status == OMNIHOST_OK, tts.error);
    CHECK(tts.mime == "audio/wav");

    const int pid = h["pid"];
    CHECK(process_alive(pid));
    CHECK(p.stop() == OMNIHOST_OK);
    CHECK_FALSE(process_alive(pid));
    CHECK(p.health()["ready"] == false);
    CHECK(p.generate({{"task", "image"}, {"prompt", "x"}}).status == OMNIHOST_UNAVAILABLE);
    CHECK(p.stop() == OMNIHOST_OK);  // idempotent
}

TEST_CASE("argv and environment: what the preview shows is what runs") {
    put_vllm_shim_on_path();
    // The host's own secret and an unrelated variable must stay in the host.
    setenv("OMNIHOST_TOKEN", "host-secret-token", 1);
    setenv("SOME_UNRELATED_SECRET", "s3cr3t", 1);
    setenv("OPERATOR_PASSED_VAR", "yes", 1);
    plugin_under_test p("subprocess_proxy");
    REQUIRE(p.create({{"allow_trust_remote_code", true}, {"inherit_env", {"OPERATOR_PASSED_VAR"}}}) == OMNIHOST_OK);
    const int port = free_port();
    json s = start_json(port, {{"gpu_memory_utilization", 0.8}, {"enable_cpu_offload", true}, {"vae_use_tiling", true},
                               {"trust_remote_code", true}, {"gpu_device", "3"}, {"hf_token", "hf_SECRET"}, {"use_modelscope", true}});
    json preview = p.preview(s);
    REQUIRE(preview.is_object());
    CHECK(preview["kind"] == "subprocess");
    CHECK(preview["env"]["HF_TOKEN"] == "***");
    CHECK(preview.dump().find("hf_SECRET") == std::string::npos);
    REQUIRE_MESSAGE(p.start(s) == OMNIHOST_OK, p.last_error());
    json info = standin_info(port);
    // argv[0] differs only because the shim execs the stand-in binary
    std::vector<std::string> ran = info["argv"];
    std::vector<std::string> shown = preview["argv"];
    REQUIRE(ran.size() == shown.size());
    CHECK(std::vector<std::string>(ran.begin() + 1, ran.end()) == std::vector<std::string>(shown.begin() + 1, shown.end()));
    // loopback bind, and the model after "--" so no request text can be an option
    CHECK(shown == std::vector<std::string>{"vllm", "serve", "--host", "127.0.0.1", "--port", std::to_string(port), "--omni",
                                            "--gpu-memory-utilization", "0.8", "--trust-remote-code", "--enable-cpu-offload",
                                            "--enforce-eager", "--vae-use-tiling", "--", "Tongyi-MAI/Z-Image-Turbo"});
    CHECK(info["host"] == "127.0.0.1");
    CHECK(info["model"] == "Tongyi-MAI/Z-Image-Turbo");
    CHECK(info["env"]["CUDA_VISIBLE_DEVICES"] == "3");
    CHECK(info["env"]["HF_TOKEN"] == "hf_SECRET");
    CHECK(info["env"]["HUGGING_FACE_HUB_TOKEN"] == "hf_SECRET");
    CHECK(info["env"]["VLLM_USE_MODELSCOPE"] == "True");
    // the child's whole environment: allow-listed, never the host's token
    const json& environment = info["environment"];
    CHECK_FALSE(environment.contains("OMNIHOST_TOKEN"));
    CHECK_FALSE(environment.contains("SOME_UNRELATED_SECRET"));
    CHECK(environment.dump().find("host-secret-token") == std::string::npos);
    CHECK(environment.contains("PATH"));
    CHECK(environment.contains("OMNIHOST_CHILD_OF"));
    CHECK(environment.value("OPERATOR_PASSED_VAR", "") == "yes");  // the operator's inherit_env
    // only stdin, stdout and stderr were inherited
    std::vector<int> fds;
    for (const auto& f : info["fds_at_start"]) fds.push_back(f["fd"]);
    const std::vector<int> std_fds = {0, 1, 2};
    CHECK_MESSAGE(fds == std_fds, info["fds_at_start"].dump());
    // the secret never reached the log bus or the argv
    CHECK_FALSE(p.logs.contains("", "hf_SECRET"));
    CHECK(json(ran).dump().find("hf_SECRET") == std::string::npos);
    CHECK(p.stop() == OMNIHOST_OK);
    unsetenv("OMNIHOST_TOKEN");
    unsetenv("SOME_UNRELATED_SECRET");
    unsetenv("OPERATOR_PASSED_VAR");
}

TEST_CASE("the operator's bind_host and extra args reach the server; a request cannot add flags") {
    put_vllm_shim_on_path();
    plugin_under_test p("subprocess_proxy");
    REQUIRE(p.create({{"bind_host", "127.0.0.2"}, {"vllm_extra_args", {"--max-model-len", "2048"}}}) == OMNIHOST_OK);
    const int port = free_port();
    json preview = p.preview(start_json(port));
    std::vector<std::string> argv = preview["argv"];
    CHECK(argv == std::vector<std::string>{"vllm", "serve", "--host", "127.0.0.2", "--port", std::to_string(port), "--omni",
                                           "--enforce-eager", "--max-model-len", "2048", "--", "Tongyi-MAI/Z-Image-Turbo"});
    CHECK(p.preview(start_json(port, {{"vllm_extra_args", {"--api-key", "x"}}}), nullptr).is_null());
    CHECK(p.last_error().rfind("vllm_extra_args:", 0) == 0);
}

TEST_CASE("venv variant runs <venv>/bin/vllm with VIRTUAL_ENV") {
    const std::string venv = temp_dir("venv");
    std::filesystem::create_directories(venv + "/bin");
    {
        std::ofstream f(venv + "/bin/vllm");
        f << "#!/bin/sh\nexec '" << standin_exe() << "' \"$@\"\n";
    }
    std::filesystem::permissions(venv + "/bin/vllm", std::filesystem::perms::owner_all);
    plugin_under_test p("subprocess_proxy");
    // The operator lists the venvs a request may pick (a trailing '/' in the request is fine).
    REQUIRE(p.create({{"vllm_binary", "/nonexistent/vllm"}, {"venvs", {venv}}}) == OMNIHOST_OK);
    const int port = free_port();
    json s = start_json(port, {{"venv_path", venv + "/"}});
    CHECK(p.preview(s)["argv"][0] == venv + "/bin/vllm");
    REQUIRE_MESSAGE(p.start(s) == OMNIHOST_OK, p.last_error());
    CHECK(standin_info(port)["env"]["VIRTUAL_ENV"] == venv);
    CHECK(p.stop() == OMNIHOST_OK);

    CHECK(p.start(start_json(port, {{"venv_path", venv + "/missing"}})) == OMNIHOST_INVALID_ARGUMENT);
    CHECK(p.last_error().rfind("venv_path:", 0) == 0);
    // the same venv, reached through "..", is the same listed path
    CHECK(p.preview(start_json(port, {{"venv_path", venv + "/bin/.."}}))["argv"][0] == venv + "/bin/vllm");

    // OMNIHOST_VENVS (colon-separated) is the environment's form of the list
    setenv("OMNIHOST_VENVS", ("/nowhere:" + venv).c_str(), 1);
    plugin_under_test q("subprocess_proxy");
    REQUIRE(q.create(json::object()) == OMNIHOST_OK);
    CHECK(q.preview(s)["argv"][0] == venv + "/bin/vllm");
    unsetenv("OMNIHOST_VENVS");
    std::filesystem::remove_all(venv);
}

TEST_CASE("a start request cannot pick the binary or the environment (operator config only)") {
    put_vllm_shim_on_path();
    plugin_under_test p("subprocess_proxy");
    REQUIRE(p.create(json::object()) == OMNIHOST_OK);
    const int port = free_port();
    json s = start_json(port, {{"vllm_binary", "/bin/false"}, {"env", {{"LD_PRELOAD", "/tmp/evil.so"}}}});
    CHECK(p.preview(s)["argv"][0] == "vllm");
    CHECK_FALSE(p.preview(s)["env"].contains("LD_PRELOAD"));
    REQUIRE(p.start(s) == OMNIHOST_OK);
    CHECK(p.stop() == OMNIHOST_OK);
}

TEST_CASE("readiness falls back to /v1/models when /health does not answer 200") {
    put_vllm_shim_on_path();
    plugin_under_test p("subprocess_proxy");
    REQUIRE(p.create({{"env", {{"OMNIHOST_STANDIN_CONTROL", "{\"health_status\":404}"}}}}) == OMNIHOST_OK);
    REQUIRE_MESSAGE(p.start(start_json(free_port())) == OMNIHOST_OK, p.last_error());
    CHECK(p.logs.contains("subprocess_proxy", "vllm is ready (/v1/models answered 200)"));
    CHECK(p.stop() == OMNIHOST_OK);
}

TEST_CASE("a missing vllm binary fails start with a clear error") {
    plugin_under_test p("subprocess_proxy");
    REQUIRE(p.create({{"vllm_binary", "vllm-not-installed-here"}}) == OMNIHOST_OK);
    CHECK(p.start(start_json(free_port())) == OMNIHOST_UNAVAILABLE);
    CHECK(p.last_error().find("executable not found: 'vllm-not-installed-here'") != std::string::npos);
    CHECK(p.health()["ready"] == false);
}

TEST_CASE("crash during start: start fails with the exit code and the last lines") {
    put_vllm_shim_on_path();
    plugin_under_test p("subprocess_proxy");
    REQUIRE(p.create({{"env", {{"OMNIHOST_STANDIN_FAIL_STARTUP", "3"}}}}) == OMNIHOST_OK);
    CHECK(p.start(start_json(free_port())) == OMNIHOST_UNAVAILABLE);
    std::string err = p.last_error();
    CHECK(err.rfind("vllm exited with code 3: ", 0) == 0);
    CHECK(err.find("RuntimeError: stand-in start-up failure requested") != std::string::npos);
    CHECK(p.logs.contains("vllm", "Traceback"));
}

TEST_CASE("death after ready is detected: health failed with code and last lines") {
    put_vllm_shim_on_path();
    plugin_under_test p("subprocess_proxy");
    const std::string pidfile = temp_dir("death") + "/pids";
    REQUIRE(p.create({{"env", {{"OMNIHOST_STANDIN_EXIT_AFTER_MS", "800"}, {"OMNIHOST_STANDIN_EXIT_CODE", "7"},
                               {"OMNIHOST_STANDIN_SPAWN_WORKER", "1"}, {"OMNIHOST_STANDIN_PID_FILE", pidfile}}}}) == OMNIHOST_OK);
    REQUIRE(p.start(start_json(free_port())) == OMNIHOST_OK);
    auto [server, worker] = read_pids(pidfile);
    json h = p.wait_health([](const json& j) { return j["failed"] == true; }, 5s);
    REQUIRE(h["failed"] == true);
    CHECK(h["exit_code"] == 7);
    CHECK(h["message"].get<std::string>().rfind("vllm exited with code 7: ", 0) == 0);
    CHECK(h["message"].get<std::string>().find("illegal memory access") != std::string::npos);
    // the server's worker does not outlive it
    for (int i = 0; i < 50 && process_alive(worker); ++i) std::this_thread::sleep_for(100ms);
    CHECK_FALSE(process_alive(worker));
    gen_result g = p.generate({{"task", "image"}, {"prompt", "x"}});
    CHECK(g.status == OMNIHOST_UNAVAILABLE);
    CHECK(g.error.find("vllm exited with code 7") != std::string::npos);
    CHECK(p.stop() == OMNIHOST_OK);
}

TEST_CASE("stop: SIGTERM to the group; a server ignoring it is SIGKILLed after the grace; no orphans") {
    put_vllm_shim_on_path();
    const std::string dir = temp_dir("stop");
    SUBCASE("cooperative server with a worker") {
        plugin_under_test p("subprocess_proxy");
        REQUIRE(p.create({{"env", {{"OMNIHOST_STANDIN_SPAWN_WORKER", "1"}, {"OMNIHOST_STANDIN_PID_FILE", dir + "/a"}}}}) == OMNIHOST_OK);
        REQUIRE(p.start(start_json(free_port())) == OMNIHOST_OK);
        auto [server, worker] = read_pids(dir + "/a");
        REQUIRE(process_alive(server));
        REQUIRE(process_alive(worker));
        CHECK(p.stop() == OMNIHOST_OK);
        CHECK_FALSE(process_alive(server));
        CHECK_FALSE(process_alive(worker));
        CHECK(p.logs.contains("vllm", "Shutting down"));
    }
    SUBCASE("server and worker ignore SIGTERM") {
        plugin_under_test p("subprocess_proxy");
        REQUIRE(p.create({{"stop_grace_s", 1.0},
                          {"env", {{"OMNIHOST_STANDIN_IGNORE_SIGTERM", "1"}, {"OMNIHOST_STANDIN_SPAWN_WORKER", "1"},
                                   {"OMNIHOST_STANDIN_PID_FILE", dir + "/b"}}}}) == OMNIHOST_OK);
        REQUIRE(p.start(start_json(free_port())) == OMNIHOST_OK);
        auto [server, worker] = read_pids(dir + "/b");
        CHECK(p.logs.wait_for("vllm", "ignoring SIGTERM", 2s));
        CHECK(p.stop() == OMNIHOST_OK);
        CHECK_FALSE(process_alive(server));
        CHECK_FALSE(process_alive(worker));
        CHECK(p.logs.contains("subprocess_proxy", "killed by signal 9"));
    }
    std::filesystem::remove_all(dir);
}

TEST_CASE("cancel while waiting for readiness stops the server") {
    put_vllm_shim_on_path();
    plugin_under_test p("subprocess_proxy");
    const std::string dir = temp_dir("cancel");
    REQUIRE(p.create({{"env", {{"OMNIHOST_STANDIN_STARTUP_DELAY_MS", "20000"}, {"OMNIHOST_STANDIN_PID_FILE", dir + "/c"}}}}) == OMNIHOST_OK);
    harness_job job;
    std::thread canceller([&] {
        std::this_thread::sleep_for(700ms);
        job.cancel = true;
    });
    int st = p.start(start_json(free_port()), &job);
    canceller.join();
    CHECK(st == OMNIHOST_CANCELLED);
    auto [server, worker] = read_pids(dir + "/c");
    CHECK(server > 0);
    CHECK_FALSE(process_alive(server));
    std::filesystem::remove_all(dir);
}

// Routing (video and audio run in-process, not here) is the manifest's; the host routes by it.
TEST_CASE("a taken port is refused") {
    put_vllm_shim_on_path();
    plugin_under_test p("subprocess_proxy");
    REQUIRE(p.create(json::object()) == OMNIHOST_OK);
    standin_server other;
    CHECK(p.start(start_json(other.port())) == OMNIHOST_INVALID_ARGUMENT);
    CHECK(p.last_error().rfind("port:", 0) == 0);
    CHECK(p.start(start_json(free_port(), {{"port", "abc"}})) == OMNIHOST_INVALID_ARGUMENT);
    CHECK(p.last_error().rfind("port:", 0) == 0);
}

TEST_CASE("requests outside the operator's policy are refused naming the field, and nothing is spawned") {
    put_vllm_shim_on_path();
    const std::string dir = temp_dir("refuse");
    const std::string pidfile = dir + "/spawned";
    const std::string venv = dir + "/venv";
    std::filesystem::create_directories(venv + "/bin");
    std::filesystem::create_directories(dir + "/models/m");
    {
        std::ofstream f(venv + "/bin/vllm");
        f << "#!/bin/sh\nexec '" << standin_exe() << "' \"$@\"\n";
    }
    std::filesystem::permissions(venv + "/bin/vllm", std::filesystem::perms::owner_all);
    plugin_under_test p("subprocess_proxy");
    // The stand-in writes the pid file as soon as it runs: its absence proves no spawn.
    REQUIRE(p.create({{"env", {{"OMNIHOST_STANDIN_PID_FILE", pidfile}}}, {"model_roots", {dir + "/models"}}}) == OMNIHOST_OK);
    struct case_row {
        json extra;
        std::string field;
    };
    const std::vector<case_row> cases = {
        {{{"venv_path", venv}}, "venv_path"},                  // an existing venv, but not the operator's
        {{{"venv_path", "/usr"}}, "venv_path"},
        {{{"model", "--help"}}, "model"},                      // option-looking ids
        {{{"model", "-rf"}}, "model"},
        {{{"model", "org/name\n--trust-remote-code"}}, "model"},  // control characters
        {{{"model", std::string("org/na\x01me")}}, "model"},
        {{{"model", "org/name --x"}}, "model"},
        {{{"model", "org/name/extra"}}, "model"},
        {{{"model", "../../etc"}}, "model"},
        {{{"model", "org/name@-x"}}, "model"},                 // revision validated
        {{{"model", "org/name@a..b"}}, "model"},
        {{{"model", "/etc"}}, "model"},                        // local path outside the model roots
        {{{"model", dir + "/models/../../x"}}, "model"},
        {{{"trust_remote_code", true}}, "trust_remote_code"},  // not allowed by this operator
        {{{"vllm_extra_args", {"--api-key", "x"}}}, "vllm_extra_args"},
        {{{"stage_configs_path", dir + "/stage.yaml"}}, "stage_configs_path"},
    };
    for (const auto& c : cases) {
        CAPTURE(c.extra.dump());
        CHECK(p.start(start_json(free_port(), c.extra)) == OMNIHOST_INVALID_ARGUMENT);
        CHECK(p.last_error().rfind(c.field + ":", 0) == 0);
        int st = 0;
        CHECK(p.preview(start_json(free_port(), c.extra), &st).is_null());
        CHECK(st == OMNIHOST_INVALID_ARGUMENT);
    }
    CHECK_FALSE(std::filesystem::exists(pidfile));
    CHECK_FALSE(p.logs.contains("subprocess_proxy", "starting:"));

    // What is allowed: a revision (passed as --revision), a local path inside a model root, and
    // the playground's "accelerator", accepted and ignored.
    json ok = p.preview(start_json(1234, {{"model", "org/name@v1.0"}, {"accelerator", "amd"}}));
    std::vector<std::string> argv = ok["argv"];
    CHECK(argv == std::vector<std::string>{"vllm", "serve", "--host", "127.0.0.1", "--port", "1234", "--omni", "--revision",
                                           "v1.0", "--enforce-eager", "--", "org/name"});
    CHECK(p.preview(start_json(1234, {{"model", dir + "/models/m"}}))["argv"].back() == dir + "/models/m");
    CHECK(p.preview(start_json(1234, {{"model", "gpt2@0123456789abcdef0123456789abcdef01234567"}}))["argv"].back() == "gpt2");
    std::filesystem::remove_all(dir);
}

TEST_CASE("a very long output line reaches the log truncated, with a marker") {
    put_vllm_shim_on_path();
    plugin_under_test p("subprocess_proxy");
    REQUIRE(p.create({{"env", {{"OMNIHOST_STANDIN_LONG_LINE_BYTES", "1000000"}}}}) == OMNIHOST_OK);
    REQUIRE_MESSAGE(p.start(start_json(free_port())) == OMNIHOST_OK, p.last_error());
    CHECK(p.logs.wait_for("vllm", "[line truncated]", 2s));
    size_t longest = 0;
    for (const auto& l : p.logs.lines()) longest = std::max(longest, l.message.size());
    CHECK(longest < 20000);
    // the line after the long one arrives whole
    CHECK(p.logs.contains("vllm", "after the long line"));
    CHECK(p.stop() == OMNIHOST_OK);
}
