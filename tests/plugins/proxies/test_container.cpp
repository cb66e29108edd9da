// container_proxy with a REAL podman container: the test setup builds a local image (busybox +
// the stand-in + its libraries, no registry) and configures runc + ulimits. Covers run arguments,
// readiness, `logs -f` streaming, stop -t 2 keeping the container, reuse by config hash, recreation
// on a changed config, death detection, routing refusals, and docker as the CLI (against podman's
// Docker-compatible socket). If podman cannot run here, these tests FAIL with the reason.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "leftovers.h"
#include "plugin_harness.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <array>
#include <cstdlib>
#include <iostream>
#include <cstdio>
#include <filesystem>
#include <thread>

using nlohmann::json;
using namespace proxytest;
using namespace std::chrono_literals;

namespace {

struct podman_setup {
    std::string conf, image, error;
};

std::string run_capture(const std::string& cmd, int* rc = nullptr) {
    std::string out;
    FILE* p = popen((cmd + " 2>&1").c_str(), "r");
    if (!p) return "popen failed";
    std::array<char, 4096> buf{};
    while (size_t n = fread(buf.data(), 1, buf.size(), p)) out.append(buf.data(), n);
    int st = pclose(p);
    if (rc) *rc = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
    return out;
}

const podman_setup& podman() {
    static podman_setup s = [] {
        podman_setup r;
        int rc = 0;
        std::string out = run_capture(std::string("'") + PROXYTEST_SETUP_PODMAN + "' '" + standin_exe() + "' '" + PROXYTEST_WORK_DIR + "'", &rc);
        if (rc != 0) {
            r.error = "podman setup failed (rc " + std::to_string(rc) + "): " + out;
            return r;
        }
        for (size_t pos = 0; pos < out.size();) {
            size_t nl = out.find('\n', pos);
            std::string line = out.substr(pos, nl - pos);
            if (line.rfind("CONTAINERS_CONF=", 0) == 0) r.conf = line.substr(16);
            if (line.rfind("IMAGE=", 0) == 0) r.image = line.substr(6);
            pos = nl == std::string::npos ? out.size() : nl + 1;
        }
        if (r.conf.empty() || r.image.empty()) r.error = "podman setup printed no image: " + out;
        setenv("CONTAINERS_CONF", r.conf.c_str(), 1);
        return r;
    }();
    return s;
}

std::string podman_cmd(const std::string& args) { return run_capture("podman " + args); }

std::string trim(std::string s) {
    while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
    return s;
}

std::string inspect(const std::string& name, const std::string& format) {
    return trim(podman_cmd("inspect " + name + " --format '" + format + "'"));
}

struct container_names {
    std::string container = "omnihost-proxytest-" + std::to_string(getpid());
    ~container_names() { podman_cmd("rm -f " + container); }
};

json config_for(const container_names& n, const std::string& runtime = "podman") {
    const podman_setup& s = podman();
    return {{"runtime", runtime},
            {"image", s.image},
            {"container_name", n.container},
            {"runtime_env", {{"CONTAINERS_CONF", s.conf}}},
            {"hf_cache_dir", std::string(PROXYTEST_WORK_DIR) + "/hf-cache"},
            {"accelerator", "none"},  // no GPU here, whatever the start request says
            {"start_timeout_s", 60}};
}

json start_json(int port, json extra = json::object()) {
    json j = {{"model", "Qwen/Qwen-Image"}, {"model_type", "image"}, {"run_mode", "container"}, {"port", port}, {"accelerator", "nvidia"}};
    j.update(extra);
    return j;
}

}  // namespace

TEST_CASE("podman is usable here (runc + ulimits, locally built image)") {
    const podman_setup& s = podman();
    REQUIRE_MESSAGE(s.error.empty(), s.error);
    CHECK(s.image.rfind("localhost/omnihost-standin:", 0) == 0);
}

TEST_CASE("container lifecycle: run, logs, ready, generate, stop keeps it, reuse, recreate, death") {
    REQUIRE_MESSAGE(podman().error.empty(), podman().error);
    container_names names;
    podman_cmd("rm -f " + names.container);
    plugin_under_test p("container_proxy");
    REQUIRE(p.create(config_for(names)) == OMNIHOST_OK);
    const int port = free_port();
    json s = start_json(port, {{"hf_token", "hf_CONTAINERSECRET"}});

    json preview = p.preview(s);
    REQUIRE(preview.is_object());
    CHECK(preview["kind"] == "container");
    CHECK(preview.dump().find("hf_CONTAINERSECRET") == std::string::npos);
    CHECK(preview["command"].get<std::string>().find("HF_TOKEN=***") != std::string::npos);

    harness_job job;
    REQUIRE_MESSAGE(p.start(s, &job) == OMNIHOST_OK, (p.last_error() + "\n" + p.logs.dump()));
    CHECK(p.health()["ready"] == true);
    // `logs -f` streamed the server's start-up into the bus
    // (inside the container vLLM listens on every address; only the published port is loopback)
    CHECK(p.logs.wait_for("vllm", "Uvicorn running on http://0.0.0.0:" + std::to_string(port), 5s));
    // what ran is what the preview showed: the explicit command, the labels, the token env
    json cmd = json::parse(inspect(names.container, "{{json .Config.Cmd}}"));
    std::vector<std::string> shown = preview["argv"];
    auto at = std::find(shown.begin(), shown.end(), podman().image);
    REQUIRE(at != shown.end());
    CHECK(cmd == json(std::vector<std::string>(at + 1, shown.end())));
    CHECK(cmd == json({"vllm", "serve", "--omni", "--port", std::to_string(port), "--enforce-eager", "--", "Qwen/Qwen-Image"}));
    // published on loopback only, labelled with its owner, the token in no recorded command line
    const std::string bindings = inspect(names.container, "{{json .HostConfig.PortBindings}}");
    CHECK_MESSAGE(bindings.find("\"HostIp\":\"127.0.0.1\"") != std::string::npos, bindings);
    CHECK(bindings.find("0.0.0.0") == std::string::npos);
    CHECK(inspect(names.container, "{{index .Config.Labels \"omnihost.owner\"}}") == omnihost::proxy::owner_marker());
    CHECK(inspect(names.container, "{{json .Config.CreateCommand}}").find("hf_CONTAINERSECRET") == std::string::npos);
    CHECK(inspect(names.container, "{{json .Config.CreateCommand}}").find("\"HF_TOKEN\"") != std::string::npos);
    CHECK_FALSE(p.logs.contains("", "hf_CONTAINERSECRET"));
    const std::string hash = inspect(names.container, "{{index .Config.Labels \"vllm-omni.config.hash\"}}");
    CHECK(hash.size() == 12);
    CHECK(inspect(names.container, "{{index .Config.Labels \"vllm-omni.image\"}}") == podman().image);
    CHECK(podman_cmd("exec " + names.container + " /bin/sh -c 'echo $HUGGING_FACE_HUB_TOKEN'").find("hf_CONTAINERSECRET") != std::string::npos);

    gen_result img = p.generate({{"task", "image"}, {"prompt", "boat"}, {"width", 32}, {"height", 32}});
    REQUIRE_MESSAGE(img.status == OMNIHOST_OK, img.error);
    CHECK(img.mime == "image/png");
    harness_job chat_job;
    gen_result chat = p.generate({{"task", "chat"}, {"messages", json::array({{{"role", "user"}, {"content", "ahoy"}}})}}, &chat_job);
    REQUIRE_MESSAGE(chat.status == OMNIHOST_OK, chat.error);
    CHECK(chat.metadata["text"] == "Hello from the stand-in. You said: ahoy");

    const std::string id = inspect(names.container, "{{.Id}}");
    CHECK(p.stop() == OMNIHOST_OK);
    CHECK(inspect(names.container, "{{.State.Status}}") == "exited");  // stopped, kept for reuse
    CHECK(p.logs.contains("container_proxy", "kept for reuse"));

    // Same configuration: the stopped container is started again, not recreated.
    REQUIRE_MESSAGE(p.start(s) == OMNIHOST_OK, p.last_error());
    CHECK(p.logs.contains("container_proxy", "Reusing container " + names.container));
    CHECK(inspect(names.container, "{{.Id}}") == id);
    CHECK(p.generate({{"task", "tts"}, {"text", "again"}}).status == OMNIHOST_OK);
    CHECK(p.stop() == OMNIHOST_OK);

    // Changed configuration: recreated with a new hash.
    json changed = s;
    changed["gpu_memory_utilization"] = 0.7;
    REQUIRE_MESSAGE(p.start(changed) == OMNIHOST_OK, p.last_error());
    CHECK(p.logs.contains("container_proxy", "recreating"));
    CHECK(inspect(names.container, "{{.Id}}") != id);
    CHECK(inspect(names.container, "{{index .Config.Labels \"vllm-omni.config.hash\"}}") != hash);
    CHECK(json::parse(inspect(names.container, "{{json .Config.Cmd}}")).dump().find("\"--gpu-memory-utilization\",\"0.7\"") != std::string::npos);

    // Death: the server inside crashes; health turns failed with the code and the last lines.
    try {
        standin_control(port, {{"crash_now", 5}});  // the server exits without answering
    } catch (const std::exception&) {
    }
    json h = p.wait_health([](const json& j) { return j["failed"] == true; }, 15s);
    REQUIRE_MESSAGE(h["failed"] == true, h.dump());
    std::string msg = h["message"];
    CHECK(msg.find("exited with code 5") != std::string::npos);
    CHECK(msg.find("stand-in crashing on request") != std::string::npos);
    CHECK(p.generate({{"task", "image"}, {"prompt", "x"}}).status == OMNIHOST_UNAVAILABLE);
    CHECK(p.stop() == OMNIHOST_OK);
}

TEST_CASE("a server that never gets ready: start times out, a cancelled start stops the container") {
    REQUIRE_MESSAGE(podman().error.empty(), podman().error);
    container_names names;
    podman_cmd("rm -f " + names.container);
    json cfg = config_for(names);
    cfg["start_timeout_s"] = 3;
    cfg["run_args"] = {"-e", "OMNIHOST_STANDIN_STARTUP_DELAY_MS=120000"};
    plugin_under_test p("container_proxy");
    REQUIRE(p.create(cfg) == OMNIHOST_OK);
    CHECK(p.start(start_json(free_port())) == OMNIHOST_UNAVAILABLE);
    CHECK(p.last_error().find("did not become ready within 3 s") != std::string::npos);
    CHECK(inspect(names.container, "{{.State.Status}}") == "exited");
    CHECK(p.logs.contains("vllm", "Loading weights"));

    harness_job job;
    std::thread canceller([&] {
        std::this_thread::sleep_for(1500ms);
        job.cancel = true;
    });
    int st = p.start(start_json(free_port()), &job);
    canceller.join();
    CHECK(st == OMNIHOST_CANCELLED);
    CHECK(inspect(names.container, "{{.State.Status}}") == "exited");
}

// Which model types container mode serves is the manifest's ("routes", and "refuses" with the
// reason for video and audio): the host routes by it, the plugin does not check it again.
TEST_CASE("a bad runtime is reported") {
    plugin_under_test q("container_proxy");
    REQUIRE(q.create({{"runtime", "no-such-runtime"}}) == OMNIHOST_OK);
    CHECK(q.start(start_json(free_port())) == OMNIHOST_INVALID_ARGUMENT);
    CHECK(q.last_error().rfind("runtime:", 0) == 0);
}

TEST_CASE("docker CLI as the runtime (against podman's Docker-compatible socket)") {
    REQUIRE_MESSAGE(podman().error.empty(), podman().error);
    REQUIRE_MESSAGE(!run_capture("command -v docker").empty(), "the docker CLI is not installed");
    const std::string sock = std::string(PROXYTEST_WORK_DIR) + "/podman.sock";
    std::filesystem::remove(sock);
    pid_t service = fork();
    if (service == 0) {
        setpgid(0, 0);
        int devnull = open("/dev/null", O_WRONLY);
        dup2(devnull, 1);
        dup2(devnull, 2);
        execlp("podman", "podman", "system", "service", "--time=0", ("unix://" + sock).c_str(), (char*)nullptr);
        _exit(127);
    }
    for (int i = 0; i < 100 && !std::filesystem::exists(sock); ++i) std::this_thread::sleep_for(100ms);
    REQUIRE_MESSAGE(std::filesystem::exists(sock), ("podman system service did not open " + sock));
    {
        container_names names;
        names.container += "-docker";
        json cfg = config_for(names, "docker");
        cfg["runtime_env"]["DOCKER_HOST"] = "unix://" + sock;
        plugin_under_test p("container_proxy");
        REQUIRE(p.create(cfg) == OMNIHOST_OK);
        const int port = free_port();
        json preview = p.preview(start_json(port));
        CHECK(preview["argv"][0] == "docker");
        REQUIRE_MESSAGE(p.start(start_json(port)) == OMNIHOST_OK, (p.last_error() + "\n" + p.logs.dump()));
        CHECK(p.logs.wait_for("vllm", "Uvicorn running", 5s));
        CHECK(p.generate({{"task", "image"}, {"prompt", "x"}, {"width", 16}, {"height", 16}}).status == OMNIHOST_OK);
        CHECK(p.stop() == OMNIHOST_OK);
        CHECK(inspect(names.container, "{{.State.Status}}") == "exited");
    }
    kill(-service, SIGTERM);
    waitpid(service, nullptr, 0);
}

// Runs only inside the fresh process started by the next test: creates the plugin once (its
// once-per-process clean-up runs at the first create), then ends.
TEST_CASE("helper: create container_proxy in a fresh process") {
    const char* cfg = std::getenv("PROXYTEST_CREATE_ONLY");
    if (!cfg) return;
    plugin_under_test p("container_proxy");
    REQUIRE(p.create(json::parse(cfg)) == OMNIHOST_OK);
    std::cout << p.logs.dump() << std::flush;
}

TEST_CASE("running containers left by a host that is gone are removed at the next start-up; others are kept") {
    REQUIRE_MESSAGE(podman().error.empty(), podman().error);
    container_names orphan, stopped, live;
    orphan.container += "-orphan";
    stopped.container += "-stopped";
    live.container += "-live";
    // A marker naming a process that is gone: a child we started and reaped.
    pid_t gone = fork();
    if (gone == 0) _exit(0);
    waitpid(gone, nullptr, 0);
    const std::string dead_marker = std::to_string(gone) + ":" + std::to_string(omnihost::proxy::process_start_ticks(getpid()));
    auto run = [&](const std::string& name, const std::string& owner) {
        int rc = 0;
        std::string out = run_capture("podman run -d --name " + name + " --label omnihost.owner=" + owner + " " +
                                          podman().image + " sleep 600",
                                      &rc);
        REQUIRE_MESSAGE(rc == 0, out);
    };
    run(orphan.container, dead_marker);
    run(stopped.container, dead_marker);
    podman_cmd("stop -t 0 " + stopped.container);
    run(live.container, omnihost::proxy::owner_marker());
    REQUIRE(inspect(orphan.container, "{{.State.Status}}") == "running");

    container_names unused;
    json cfg = config_for(unused);
    setenv("PROXYTEST_CREATE_ONLY", cfg.dump().c_str(), 1);
    int rc = 0;
    std::string out = run_capture("/proc/" + std::to_string(getpid()) + "/exe --test-case='helper: create container_proxy*'", &rc);
    unsetenv("PROXYTEST_CREATE_ONLY");
    CHECK_MESSAGE(rc == 0, out);
    CHECK_MESSAGE(out.find("removed container") != std::string::npos, out);
    CHECK(podman_cmd("container exists " + orphan.container + " && echo yes").find("yes") == std::string::npos);
    CHECK(inspect(stopped.container, "{{.State.Status}}") == "exited");  // kept for reuse
    CHECK(inspect(live.container, "{{.State.Status}}") == "running");   // its host is alive
}
