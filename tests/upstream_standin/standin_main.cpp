// omnihost-upstream-standin: a faithful stand-in for `vllm serve <model> --omni` used by the proxy
// tests (vLLM cannot be installed on the test machines). It takes vllm's command line
//   [serve] [<model>] [--port P] [--host H] [--api-key K] [--omni] [other vllm flags, recorded] [-- <model>]
// prints uvicorn-like lines, and serves the OpenAI-compatible endpoints with real PNG/WAV/MP4.
//
// Start-up steering (environment, so the argv stays exactly what the proxy built):
//   OMNIHOST_STANDIN_STARTUP_DELAY_MS  load time before the port opens (prints progress lines)
//   OMNIHOST_STANDIN_FAIL_STARTUP=N    print a traceback and exit with code N before listening
//   OMNIHOST_STANDIN_EXIT_AFTER_MS     crash this long after listening ...
//   OMNIHOST_STANDIN_EXIT_CODE         ... with this code (default 1)
//   OMNIHOST_STANDIN_IGNORE_SIGTERM=1  ignore SIGTERM (tests SIGKILL escalation)
//   OMNIHOST_STANDIN_SPAWN_WORKER=1    fork a worker that sleeps forever (tests group kill)
//   OMNIHOST_STANDIN_PID_FILE=path     write "<pid> <worker pid>" there
//   OMNIHOST_STANDIN_LONG_LINE_BYTES=N print one log line of N bytes (tests line bounding)
//   OMNIHOST_STANDIN_CONTROL='{json}'  initial behaviour (see standin_server.cpp / POST /standin/control)
#include "standin_server.h"

#include <dirent.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

using nlohmann::json;

namespace {

long env_long(const char* name, long def) {
    const char* v = std::getenv(name);
    return v && *v ? std::strtol(v, nullptr, 10) : def;
}

// Descriptors open when main() starts: what the parent let through (the proxy must pass 0, 1, 2
// only). Reported by /standin/info as "fds_at_start": [{"fd", "target"}].
json inherited_fds() {
    json out = json::array();
    DIR* dir = ::opendir("/proc/self/fd");
    if (!dir) return out;
    const int own = ::dirfd(dir);
    while (dirent* ent = ::readdir(dir)) {
        if (ent->d_name[0] < '0' || ent->d_name[0] > '9') continue;
        int fd = std::atoi(ent->d_name);
        if (fd == own) continue;
        char target[512];
        ssize_t n = ::readlink((std::string("/proc/self/fd/") + ent->d_name).c_str(), target, sizeof target - 1);
        out.push_back({{"fd", fd}, {"target", n > 0 ? std::string(target, static_cast<size_t>(n)) : std::string()}});
    }
    ::closedir(dir);
    return out;
}

}  // namespace

extern char** environ;

int main(int argc, char** argv) {
    standin::server_options opt;
    opt.fds_at_start = inherited_fds();
    for (char** e = environ; e && *e; ++e) {
        std::string kv(*e);
        auto eq = kv.find('=');
        if (eq != std::string::npos) opt.environment[kv.substr(0, eq)] = kv.substr(eq + 1);
    }
    for (int i = 0; i < argc; ++i) opt.argv.push_back(argv[i]);
    int i = 1;
    if (i < argc && std::string(argv[i]) == "serve") ++i;
    if (i < argc && argv[i][0] != '-') opt.model = argv[i++];
    for (; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::cerr << "error: argument " << a << " expects a value\n";
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--") {  // the rest is positional: the model
            if (i + 1 < argc) opt.model = argv[++i];
            break;
        }
        if (a == "--port") opt.port = std::stoi(next());
        else if (a == "--host") opt.host = next();
        else if (a == "--api-key") opt.api_key = next();
        else if (a == "--model") opt.model = next();
        else if (a == "--max-model-len") opt.max_model_len = std::stoi(next());
        else if (a == "--tensor-parallel-size" || a == "--gpu-memory-utilization" || a == "--stage-configs-path" ||
                 a == "--revision")
            next();
        // other flags (--omni, --enforce-eager, ...) are accepted and recorded in argv
    }
    for (const char* k : {"CUDA_VISIBLE_DEVICES", "HF_TOKEN", "HUGGING_FACE_HUB_TOKEN", "VLLM_USE_MODELSCOPE",
                          "VIRTUAL_ENV"}) {
        const char* v = std::getenv(k);
        opt.env[k] = v ? json(v) : json();
    }
    if (const char* c = std::getenv("OMNIHOST_STANDIN_CONTROL"); c && *c) opt.initial_control = json::parse(c);

    const bool ignore_term = env_long("OMNIHOST_STANDIN_IGNORE_SIGTERM", 0) != 0;
    if (ignore_term) signal(SIGTERM, SIG_IGN);

    std::string cmd;
    for (const auto& a : opt.argv) cmd += (cmd.empty() ? "" : " ") + a;
    standin::say("INFO 00:00:00 [api_server.py] vLLM-Omni stand-in, argv: " + cmd);
    standin::say("INFO 00:00:00 [api_server.py] model=" + opt.model + " port=" + std::to_string(opt.port));
    if (ignore_term) standin::say("WARNING 00:00:00 [standin] ignoring SIGTERM");
    if (long n = env_long("OMNIHOST_STANDIN_LONG_LINE_BYTES", 0)) {
        standin::say("INFO 00:00:00 [standin] " + std::string(static_cast<size_t>(n), 'x'));
        standin::say("INFO 00:00:00 [standin] after the long line");
    }

    // Fork before any thread exists; the worker shares the process group, like vLLM engine cores.
    pid_t worker = 0;
    if (env_long("OMNIHOST_STANDIN_SPAWN_WORKER", 0)) {
        worker = fork();
        if (worker == 0) {
            for (;;) pause();
        }
        standin::say("INFO 00:00:00 [standin] started worker process " + std::to_string(worker));
    }
    if (const char* pf = std::getenv("OMNIHOST_STANDIN_PID_FILE"); pf && *pf) {
        std::ofstream(pf) << getpid() << " " << worker << "\n";
    }

    if (long code = env_long("OMNIHOST_STANDIN_FAIL_STARTUP", 0)) {
        standin::say("Traceback (most recent call last):", true);
        standin::say("  File \"vllm/entrypoints/cli/serve.py\", line 42, in cmd", true);
        standin::say("RuntimeError: stand-in start-up failure requested (code " + std::to_string(code) + ")", true);
        return static_cast<int>(code);
    }

    long delay = env_long("OMNIHOST_STANDIN_STARTUP_DELAY_MS", 0);
    for (long waited = 0; waited < delay; waited += 200) {
        standin::say("INFO 00:00:00 [model_runner.py] Loading weights... (" + std::to_string(waited) + " ms)");
        std::this_thread::sleep_for(std::chrono::milliseconds(std::min(200L, delay - waited)));
    }

    // Block the signals we wait for before the server threads start, so sigwait gets them.
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    if (!ignore_term) sigaddset(&set, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &set, nullptr);

    standin::say("INFO:     Started server process [" + std::to_string(getpid()) + "]", true);
    standin::say("INFO:     Waiting for application startup.", true);
    try {
        standin::start_server(opt);
    } catch (const std::exception& e) {
        standin::say(std::string("ERROR:    [Errno 98] could not bind on port ") + std::to_string(opt.port) + ": " + e.what(), true);
        return 1;
    }
    standin::say("INFO:     Application startup complete.", true);
    standin::say("INFO:     Uvicorn running on http://" + opt.host + ":" + std::to_string(opt.port) +
                     " (Press CTRL+C to quit)",
                 true);

    if (long after = env_long("OMNIHOST_STANDIN_EXIT_AFTER_MS", 0)) {
        long code = env_long("OMNIHOST_STANDIN_EXIT_CODE", 1);
        std::thread([after, code] {
            std::this_thread::sleep_for(std::chrono::milliseconds(after));
            standin::say("ERROR 00:00:00 [core.py] EngineCore encountered a fatal error.", true);
            standin::say("RuntimeError: CUDA error: an illegal memory access was encountered (stand-in crash)", true);
            _exit(static_cast<int>(code));
        }).detach();
    }

    int sig = 0;
    sigwait(&set, &sig);
    standin::say("INFO:     Shutting down", true);
    standin::say("INFO:     Finished server process [" + std::to_string(getpid()) + "]", true);
    _exit(0);  // do not wait for hanging requests; a real server is killed the same way
}
