#include "host_process.h"

#include <cstdio>
#include <cstdlib>

#include <csignal>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/StreamCopier.h>
#include <fcntl.h>
#include <sys/wait.h>
#include <unistd.h>

namespace omnihost_test {
namespace fs = std::filesystem;

namespace {

fs::path make_temp_dir() {
    std::string pattern = (fs::temp_directory_path() / "omnihost-it-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    return pattern;
}

} // namespace

host_process::host_process(host_config config) {
    temp_ = make_temp_dir();
    fs::create_directories(temp_ / "data");
    std::string web = config.web_dir;
    if (web.empty()) {
        web = (temp_ / "web").string();
        fs::create_directories(web);
        std::ofstream(fs::path(web) / "index.html") << "<!doctype html><title>omnihost test</title>";
        std::ofstream(fs::path(web) / "app.js") << "console.log('ok');";
        std::ofstream(temp_ / "outside.txt") << "must not be served";
        fs::create_symlink(temp_ / "outside.txt", fs::path(web) / "link-out.txt");
    }
    std::vector<std::string> args = {OMNIHOST_BINARY, "--port", "0", "--host", "127.0.0.1",
                                     "--plugin-dir", config.plugin_dir, "--recipe-dir", config.recipe_dir,
                                     "--web-dir", web, "--data-dir", (temp_ / "data").string(),
                                     "--log-level", "debug"};
    if (!config.shared_data_dir.empty()) {
        args.insert(args.end(), {"--data-dir", config.shared_data_dir, "--database",
                                 "sqlite:" + (temp_ / "data" / "jobs.db").string(), "--output-dir",
                                 (temp_ / "data" / "outputs").string()});
    }
    args.insert(args.end(), config.extra_args.begin(), config.extra_args.end());

    int out_pipe[2];
    if (::pipe(out_pipe) != 0) throw std::runtime_error("pipe failed");
    const std::string log_path = (temp_ / "host.log").string();
    pid_ = ::fork();
    if (pid_ < 0) throw std::runtime_error("fork failed");
    if (pid_ == 0) {
        ::dup2(out_pipe[1], STDOUT_FILENO);
        const int log_fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (log_fd >= 0) ::dup2(log_fd, STDERR_FILENO);
        ::close(out_pipe[0]);
        ::close(out_pipe[1]);
        ::unsetenv("OMNIHOST_TOKEN");
        for (const auto &[key, value] : config.env) ::setenv(key.c_str(), value.c_str(), 1);
        std::vector<char *> argv;
        for (auto &a : args) argv.push_back(a.data());
        argv.push_back(nullptr);
        ::execv(argv[0], argv.data());
        std::perror("execv omnihost");
        ::_exit(127);
    }
    ::close(out_pipe[1]);
    // Read stdout until the "listening" line (the last line the host prints there).
    std::string line;
    char c;
    const std::string marker = "omnihost listening on http://";
    while (::read(out_pipe[0], &c, 1) == 1) {
        startup_output_ += c;
        if (c != '\n') {
            line += c;
            continue;
        }
        if (auto at = line.find(marker); at != std::string::npos) {
            const std::string rest = line.substr(at + marker.size());
            port_ = std::stoi(rest.substr(rest.rfind(':') + 1));
            break;
        }
        line.clear();
    }
    // Keep the read end open: a closed pipe would kill the host with SIGPIPE on its next stdout line.
    stdout_fd_ = out_pipe[0];
    if (port_ == 0) {
        int status = 0;
        ::waitpid(pid_, &status, 0);
        pid_ = -1;
        throw std::runtime_error("omnihost did not start; log:\n" + log_text());
    }
}

host_process::~host_process() {
    terminate();
    if (stdout_fd_ >= 0) ::close(stdout_fd_);
    // OMNIHOST_TEST_KEEP_TEMP=1 keeps the host's folder (its log, data dir) to read after a failure.
    if (const char *keep = std::getenv("OMNIHOST_TEST_KEEP_TEMP"); keep && *keep == '1') {
        std::fprintf(stderr, "kept %s\n", temp_.string().c_str());
        return;
    }
    std::error_code ec;
    fs::remove_all(temp_, ec);
}

std::string host_process::log_text() const {
    std::ifstream in(temp_ / "host.log");
    std::stringstream text;
    text << in.rdbuf();
    return text.str();
}

int host_process::terminate(int seconds) {
    if (pid_ <= 0) return 0;
    ::kill(pid_, SIGTERM);
    int status = 0;
    for (int i = 0; i < seconds * 20; ++i) {
        if (::waitpid(pid_, &status, WNOHANG) == pid_) {
            pid_ = -1;
            return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, &status, 0);
    pid_ = -1;
    return -1;
}

nlohmann::json http_result::json() const { return nlohmann::json::parse(body, nullptr, false); }

http_result http(int port, const std::string &method, const std::string &raw_target, const std::string &body,
                const std::map<std::string, std::string> &headers) {
    Poco::Net::HTTPClientSession session("127.0.0.1", static_cast<Poco::UInt16>(port));
    session.setTimeout(Poco::Timespan(120, 0));
    Poco::Net::HTTPRequest request(method, raw_target, Poco::Net::HTTPMessage::HTTP_1_1);
    for (const auto &[key, value] : headers) request.set(key, value);
    if (!body.empty() || method == "POST") {
        if (!request.has("Content-Type")) request.setContentType("application/json");
        request.setContentLength(static_cast<std::streamsize>(body.size()));
    }
    std::ostream &out = session.sendRequest(request);
    out << body;
    Poco::Net::HTTPResponse response;
    std::istream &in = session.receiveResponse(response);
    http_result result;
    result.status = static_cast<int>(response.getStatus());
    Poco::StreamCopier::copyToString(in, result.body);
    for (const auto &[key, value] : response) result.headers[key] = value;
    return result;
}

http_result get(int port, const std::string &target, const std::string &token) {
    std::map<std::string, std::string> headers;
    if (!token.empty()) headers["Authorization"] = "Bearer " + token;
    return http(port, "GET", target, "", headers);
}

http_result post(int port, const std::string &target, const nlohmann::json &body, const std::string &token) {
    std::map<std::string, std::string> headers;
    if (!token.empty()) headers["Authorization"] = "Bearer " + token;
    return http(port, "POST", target, body.dump(), headers);
}

nlohmann::json wait_for_state(int port, const std::string &state, double seconds, const std::string &token) {
    nlohmann::json last;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
    while (std::chrono::steady_clock::now() < deadline) {
        last = get(port, "/api/omni/status", token).json();
        if (last.is_object() && last.value("state", "") == state) return last;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return last;
}

} // namespace omnihost_test
