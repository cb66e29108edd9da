#include "plugin_harness.h"

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <dlfcn.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <fstream>
#include <stdexcept>
#include <thread>

extern char** environ;

using nlohmann::json;

namespace proxytest {

// ---- logs ------------------------------------------------------------------------------------

void log_recorder::add(int level, const std::string& source, const std::string& message) {
    std::lock_guard lock(mutex_);
    lines_.push_back({level, source, message});
}

std::vector<captured_log_line> log_recorder::lines() const {
    std::lock_guard lock(mutex_);
    return lines_;
}

bool log_recorder::contains(const std::string& source, const std::string& needle) const {
    std::lock_guard lock(mutex_);
    for (const auto& l : lines_)
        if ((source.empty() || l.source == source) && l.message.find(needle) != std::string::npos) return true;
    return false;
}

bool log_recorder::wait_for(const std::string& source, const std::string& needle, std::chrono::milliseconds timeout) const {
    auto until = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < until) {
        if (contains(source, needle)) return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return contains(source, needle);
}

std::string log_recorder::dump() const {
    std::lock_guard lock(mutex_);
    std::string out;
    for (const auto& l : lines_) out += "[" + l.source + "] " + l.message + "\n";
    return out;
}

// ---- jobs ------------------------------------------------------------------------------------

harness_job::harness_job() {
    job_.struct_size = sizeof(omnihost_job);
    job_.job_id = "test-job";
    job_.user_data = this;
    job_.progress = on_progress;
    job_.is_cancelled = on_cancelled;
    job_.emit = on_emit;
}

void harness_job::on_progress(void* ud, int32_t step, int32_t total, const char* phase, const char* message) {
    auto* self = static_cast<harness_job*>(ud);
    std::lock_guard lock(self->mutex_);
    self->progress_.push_back(std::string(phase ? phase : "") + " " + std::to_string(step) + "/" +
                              std::to_string(total) + " " + (message ? message : ""));
}

int32_t harness_job::on_cancelled(void* ud) { return static_cast<harness_job*>(ud)->cancel.load() ? 1 : 0; }

void harness_job::on_emit(void* ud, const char* event) {
    auto* self = static_cast<harness_job*>(ud);
    std::lock_guard lock(self->mutex_);
    self->events_.push_back(event);
}

std::vector<std::string> harness_job::events() const {
    std::lock_guard lock(mutex_);
    return events_;
}

std::vector<std::string> harness_job::progress_messages() const {
    std::lock_guard lock(mutex_);
    return progress_;
}

int harness_job::progress_count() const {
    std::lock_guard lock(mutex_);
    return static_cast<int>(progress_.size());
}

// ---- plugin ----------------------------------------------------------------------------------

plugin_under_test::plugin_under_test(const std::string& library) {
    std::string path = plugin_dir() + "/lib" + library + ".so";
    handle_ = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL);
    if (!handle_) throw std::runtime_error(std::string("dlopen failed: ") + dlerror());
    auto fn = reinterpret_cast<omnihost_plugin_entry_fn>(dlsym(handle_, OMNIHOST_PLUGIN_ENTRY_SYMBOL));
    if (!fn) throw std::runtime_error("no entry symbol in " + path);
    entry = fn();
    host_.struct_size = sizeof(omnihost_host);
    host_.user_data = this;
    host_.log = on_log;
}

plugin_under_test::~plugin_under_test() {
    if (inst_) entry->destroy(inst_);
    // Not dlclose'd: a test may still hold result pointers it already copied; the OS frees it.
}

void plugin_under_test::on_log(void* ud, omnihost_log_level level, const char* source, const char* message) {
    static_cast<plugin_under_test*>(ud)->logs.add(level, source ? source : "", message ? message : "");
}

int plugin_under_test::create(const json& config) {
    char err[1024] = {0};
    int st = entry->create(&host_, config.dump().c_str(), &inst_, err, sizeof err);
    create_error = err;
    return st;
}

// Each call gets its own error buffer (the ABI has no per-instance last error); the harness keeps
// the reason of the last failed call for last_error().
void plugin_under_test::remember(int status, const char* err) {
    if (status == OMNIHOST_OK) return;
    std::lock_guard lock(error_mutex_);
    last_error_ = err;
}

int plugin_under_test::start(const json& start_json, harness_job* job) {
    harness_job local;
    char err[2048] = {0};
    int st = entry->start(inst_, start_json.dump().c_str(), (job ? job : &local)->get(), err, sizeof err);
    remember(st, err);
    return st;
}

gen_result plugin_under_test::generate(const json& request, harness_job* job) {
    harness_job local;
    gen_result g;
    omnihost_result* r = nullptr;
    char err[2048] = {0};
    g.status = entry->generate(inst_, request.dump().c_str(), (job ? job : &local)->get(), &r, err, sizeof err);
    if (g.status != OMNIHOST_OK) {
        g.error = err;
        remember(g.status, err);
        return g;
    }
    g.bytes.assign(reinterpret_cast<const char*>(r->data), r->size);
    g.mime = r->mime_type;
    g.metadata = json::parse(r->metadata_json);
    entry->release_result(inst_, r);
    return g;
}

int plugin_under_test::stop() {
    char err[2048] = {0};
    int st = entry->stop(inst_, err, sizeof err);
    remember(st, err);
    return st;
}

// The text-out rule: ask with a buffer, and again with the reported length when it did not fit.
static std::string read_text(const std::function<int(char*, size_t, size_t*, char*, size_t)>& call, int* status,
                             std::string* error) {
    std::vector<char> buf(256);
    for (int round = 0; round < 8; ++round) {
        size_t len = 0;
        char err[2048] = {0};
        int st = call(buf.data(), buf.size(), &len, err, sizeof err);
        if (status) *status = st;
        if (st != OMNIHOST_OK) {
            if (error) *error = err;
            return {};
        }
        if (len < buf.size()) return std::string(buf.data(), len);
        buf.assign(len + 1, '\0');
    }
    throw std::runtime_error("text answer kept growing");
}

json plugin_under_test::health() {
    int st = OMNIHOST_OK;
    std::string text = read_text(
        [this](char* out, size_t cap, size_t* len, char* err, size_t err_cap) {
            return entry->health(inst_, out, cap, len, err, err_cap);
        },
        &st, nullptr);
    if (st != OMNIHOST_OK) throw std::runtime_error("health failed with status " + std::to_string(st));
    return json::parse(text);
}

json plugin_under_test::preview(const json& start_json, int* status) {
    const std::string start = start_json.dump();
    int st = OMNIHOST_OK;
    std::string error;
    std::string text = read_text(
        [&](char* out, size_t cap, size_t* len, char* err, size_t err_cap) {
            return entry->command_preview(inst_, start.c_str(), out, cap, len, err, err_cap);
        },
        &st, &error);
    if (status) *status = st;
    if (st != OMNIHOST_OK) {
        remember(st, error.c_str());
        return json();
    }
    return json::parse(text);
}

std::string plugin_under_test::last_error() {
    std::lock_guard lock(error_mutex_);
    return last_error_;
}

json plugin_under_test::wait_health(const std::function<bool(const json&)>& pred, std::chrono::milliseconds timeout) {
    auto until = std::chrono::steady_clock::now() + timeout;
    json h = health();
    while (!pred(h) && std::chrono::steady_clock::now() < until) {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        h = health();
    }
    return h;
}

// ---- environment -----------------------------------------------------------------------------

int free_port() {
    Poco::Net::ServerSocket s(0);
    int port = s.address().port();
    s.close();
    return port;
}

std::string plugin_dir() { return PROXYTEST_PLUGIN_DIR; }
std::string standin_exe() { return PROXYTEST_STANDIN_EXE; }
std::string standin_bin_dir() { return PROXYTEST_STANDIN_BIN_DIR; }

void put_vllm_shim_on_path() {
    static bool done = false;
    if (done) return;
    const char* p = std::getenv("PATH");
    std::string path = standin_bin_dir() + ":" + (p ? p : "/usr/bin:/bin");
    setenv("PATH", path.c_str(), 1);
    done = true;
}

json http_json(const std::string& method, const std::string& url, const std::string& body) {
    Poco::URI uri(url);
    Poco::Net::HTTPClientSession s(uri.getHost(), uri.getPort());
    s.setTimeout(Poco::Timespan(10, 0));
    Poco::Net::HTTPRequest req(method, uri.getPathAndQuery(), Poco::Net::HTTPMessage::HTTP_1_1);
    req.setContentType("application/json");
    req.setContentLength(static_cast<std::streamsize>(body.size()));
    s.sendRequest(req) << body;
    Poco::Net::HTTPResponse res;
    std::string out;
    Poco::StreamCopier::copyToString(s.receiveResponse(res), out);
    if (res.getStatus() != 200) throw std::runtime_error(method + " " + url + " -> " + std::to_string(res.getStatus()));
    return json::parse(out);
}

void standin_control(int port, const json& patch) {
    http_json("POST", "http://127.0.0.1:" + std::to_string(port) + "/standin/control", patch.dump());
}

void standin_reset(int port) { http_json("POST", "http://127.0.0.1:" + std::to_string(port) + "/standin/reset"); }

json standin_requests(int port) { return http_json("GET", "http://127.0.0.1:" + std::to_string(port) + "/standin/requests"); }

bool process_alive(int pid) {
    if (pid <= 0) return false;
    std::ifstream f("/proc/" + std::to_string(pid) + "/stat");
    std::string stat;
    if (!std::getline(f, stat)) return false;
    auto p = stat.rfind(')');
    return p != std::string::npos && p + 2 < stat.size() && stat[p + 2] != 'Z' && stat[p + 2] != 'X';
}

// ---- direct stand-in -------------------------------------------------------------------------

standin_server::standin_server(const std::vector<std::string>& extra_args, const std::vector<std::string>& env) {
    port_ = free_port();
    std::vector<std::string> args = {standin_exe(), "serve", "standin/remote-model", "--port", std::to_string(port_),
                                     "--host", "127.0.0.1"};
    args.insert(args.end(), extra_args.begin(), extra_args.end());
    std::vector<std::string> envs;
    for (char** e = environ; *e; ++e) envs.push_back(*e);
    envs.insert(envs.end(), env.begin(), env.end());
    std::vector<char*> argv, envp;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    for (auto& e : envs) envp.push_back(e.data());
    envp.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    pid_t pid;
    if (posix_spawn(&pid, args[0].c_str(), &fa, nullptr, argv.data(), envp.data()) != 0)
        throw std::runtime_error("cannot start the stand-in " + args[0]);
    posix_spawn_file_actions_destroy(&fa);
    pid_ = pid;
    for (int i = 0; i < 100; ++i) {
        try {
            http_json("GET", url() + "/standin/info");
            return;
        } catch (...) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        }
    }
    throw std::runtime_error("stand-in did not start on port " + std::to_string(port_));
}

standin_server::~standin_server() {
    if (pid_ <= 0) return;
    kill(pid_, SIGTERM);
    for (int i = 0; i < 60; ++i) {
        if (waitpid(pid_, nullptr, WNOHANG) == pid_) return;
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    kill(pid_, SIGKILL);
    waitpid(pid_, nullptr, 0);
}

}  // namespace proxytest
