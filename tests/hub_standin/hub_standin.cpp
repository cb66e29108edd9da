#include "hub_standin.h"

#include <Poco/DigestEngine.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/Net/SecureServerSocket.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/SHA1Engine.h>
#include <Poco/SHA2Engine.h>
#include <Poco/URI.h>

#include <nlohmann/json.hpp>

#include <fstream>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <sstream>

namespace hub_standin {

namespace fs = std::filesystem;
using nlohmann::json;

std::string sha256_hex(const std::string &bytes) {
    Poco::SHA2Engine e(Poco::SHA2Engine::SHA_256);
    e.update(bytes.data(), bytes.size());
    return Poco::DigestEngine::digestToHex(e.digest());
}

std::string git_blob_id(const std::string &bytes) {
    Poco::SHA1Engine e;
    const std::string header = "blob " + std::to_string(bytes.size()) + std::string(1, '\0');
    e.update(header.data(), header.size());
    e.update(bytes.data(), bytes.size());
    return Poco::DigestEngine::digestToHex(e.digest());
}

namespace {

bool is_lfs(const std::string &path) {
    return path.size() > 12 && path.compare(path.size() - 12, 12, ".safetensors") == 0;
}

std::vector<std::string> split(const std::string &path) {
    std::vector<std::string> parts;
    std::string cur;
    for (char c : path) {
        if (c == '/') {
            if (!cur.empty()) parts.push_back(cur);
            cur.clear();
        } else {
            cur += c;
        }
    }
    if (!cur.empty()) parts.push_back(cur);
    return parts;
}

std::string join(const std::vector<std::string> &parts, std::size_t from) {
    std::string out;
    for (std::size_t i = from; i < parts.size(); ++i) out += (out.empty() ? "" : "/") + parts[i];
    return out;
}

}  // namespace

struct server::state {
    std::mutex mu;
    std::map<std::string, repo> repos;
    std::map<std::string, std::pair<std::string, std::string>> lfs;  // sha256 -> (repo id, path)
    std::map<std::string, std::pair<uint64_t, int>> breaks;            // path -> (byte, times)
    std::map<std::string, int> corrupts;
    std::string held;  // a path whose GETs wait for release()
    std::condition_variable released;
    std::vector<recorded_request> requests;
    std::unique_ptr<Poco::Net::HTTPServer> hub, cdn;
    int hub_port = 0, cdn_port = 0;
    bool tls = false;

    // The body of `path` as served this time, and where to drop the connection (0 = never).
    std::string take_body(const std::string &path, const std::string &content, uint64_t &cut) {
        std::lock_guard lock(mu);
        std::string body = content;
        cut = 0;
        if (auto it = corrupts.find(path); it != corrupts.end() && it->second > 0) {
            --it->second;
            if (!body.empty()) body[body.size() / 2] = char(body[body.size() / 2] ^ 0x5a);
        }
        if (auto it = breaks.find(path); it != breaks.end() && it->second.second > 0) {
            --it->second.second;
            cut = it->second.first;
        }
        return body;
    }

    void serve_bytes(Poco::Net::HTTPServerRequest &req, Poco::Net::HTTPServerResponse &res, const std::string &path,
                     const std::string &content, const std::map<std::string, std::string> &headers) {
        if (req.getMethod() == "GET") {
            std::unique_lock lock(mu);
            // Bounded, so a test that forgets release() fails instead of hanging.
            released.wait_for(lock, std::chrono::seconds(120), [&] { return held != path; });
        }
        uint64_t cut = 0;
        const std::string body = req.getMethod() == "HEAD" ? content : take_body(path, content, cut);
        uint64_t start = 0;
        const std::string range = req.get("Range", "");
        for (const auto &[k, v] : headers) res.set(k, v);
        if (range.rfind("bytes=", 0) == 0 && range.back() == '-') {
            start = std::stoull(range.substr(6, range.size() - 7));
            if (start >= body.size()) {
                res.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_REQUESTED_RANGE_NOT_SATISFIABLE);
                res.setContentLength(0);
                res.send();
                return;
            }
            res.setStatus(Poco::Net::HTTPResponse::HTTP_PARTIAL_CONTENT);
            res.set("Content-Range", "bytes " + std::to_string(start) + "-" + std::to_string(body.size() - 1) + "/" +
                                         std::to_string(body.size()));
        }
        res.setContentType("application/octet-stream");
        res.setContentLength64(Poco::Int64(body.size() - start));
        if (cut > 0) res.setKeepAlive(false);
        std::ostream &out = res.send();
        if (req.getMethod() == "HEAD") return;
        const uint64_t end = cut > start ? cut : (cut > 0 ? start : body.size());
        out.write(body.data() + start, std::streamsize(end - start));
        out.flush();
        // Returning with fewer bytes than announced and keep-alive off: the connection drops.
    }

    // 0 when the request may see the repository, otherwise the refusal was sent.
    bool refuse_access(const repo *r, const std::string &id, Poco::Net::HTTPServerRequest &req,
                       Poco::Net::HTTPServerResponse &res) {
        const std::string auth = req.get("Authorization", "");
        auto send_error = [&](Poco::Net::HTTPResponse::HTTPStatus status, const std::string &code, const std::string &msg) {
            res.setStatus(status);
            res.set("X-Error-Code", code);
            res.set("X-Error-Message", msg);
            res.setContentType("application/json");
            const std::string body = json{{"error", msg}}.dump();
            res.setContentLength(std::streamsize(body.size()));
            res.send() << body;
        };
        if (!r || (!r->private_token.empty() && auth != "Bearer " + r->private_token)) {
            send_error(Poco::Net::HTTPResponse::HTTP_UNAUTHORIZED, "RepoNotFound", "Repository not found");
            return true;
        }
        if (!r->gated_token.empty() && auth != "Bearer " + r->gated_token) {
            send_error(Poco::Net::HTTPResponse::HTTP_FORBIDDEN, "GatedRepo",
                       "Access to model " + id + " is restricted and you are not in the authorized list. Visit "
                       "https://huggingface.co/" + id + " to ask for access.");
            return true;
        }
        return false;
    }

    void handle_hub(Poco::Net::HTTPServerRequest &req, Poco::Net::HTTPServerResponse &res) {
        const std::vector<std::string> parts = split(Poco::URI(req.getURI()).getPath());
        auto not_found = [&](const std::string &code) {
            res.setStatus(Poco::Net::HTTPResponse::HTTP_NOT_FOUND);
            res.set("X-Error-Code", code);
            res.setContentLength(0);
            res.send();
        };
        // /api/models/{org}/{name}/{revision|tree}/{rev}
        if (parts.size() == 6 && parts[0] == "api" && parts[1] == "models") {
            const std::string id = parts[2] + "/" + parts[3];
            repo r;
            bool known = false;
            {
                std::lock_guard lock(mu);
                if (auto it = repos.find(id); it != repos.end()) r = it->second, known = true;
            }
            if (refuse_access(known ? &r : nullptr, id, req, res)) return;
            if (parts[5] != "main" && parts[5] != r.commit) return not_found("RevisionNotFound");
            json answer;
            if (parts[4] == "revision") {
                json siblings = json::array();
                for (const auto &[path, bytes] : r.files) siblings.push_back({{"rfilename", path}});
                for (const auto &name : r.extra_listed) siblings.push_back({{"rfilename", name}});
                answer = {{"id", id}, {"sha", r.commit}, {"private", !r.private_token.empty()},
                          {"gated", r.gated_token.empty() ? json(false) : json("manual")}, {"siblings", siblings}};
            } else if (parts[4] == "tree") {
                answer = json::array();
                for (const auto &[path, bytes] : r.files) {
                    json f = {{"type", "file"}, {"path", path}, {"size", bytes.size()}, {"oid", git_blob_id(bytes)}};
                    if (is_lfs(path)) f["lfs"] = {{"oid", sha256_hex(bytes)}, {"size", bytes.size()}};
                    answer.push_back(f);
                }
            } else {
                return not_found("EntryNotFound");
            }
            const std::string body = answer.dump();
            res.setContentType("application/json");
            res.setContentLength(std::streamsize(body.size()));
            res.send() << body;
            return;
        }
        // /{org}/{name}/resolve/{rev}/{path...}
        if (parts.size() >= 5 && parts[2] == "resolve") {
            const std::string id = parts[0] + "/" + parts[1];
            const std::string path = join(parts, 4);
            repo r;
            bool known = false;
            {
                std::lock_guard lock(mu);
                if (auto it = repos.find(id); it != repos.end()) r = it->second, known = true;
            }
            if (refuse_access(known ? &r : nullptr, id, req, res)) return;
            if (parts[3] != "main" && parts[3] != r.commit) return not_found("RevisionNotFound");
            const auto file = r.files.find(path);
            if (file == r.files.end()) return not_found("EntryNotFound");
            if (is_lfs(path)) {
                const std::string sha = sha256_hex(file->second);
                res.setStatus(Poco::Net::HTTPResponse::HTTP_FOUND);
                res.set("Location", "http://127.0.0.1:" + std::to_string(cdn_port) + "/lfs/" + sha + "?signature=standin");
                res.set("X-Linked-Etag", "\"" + sha + "\"");
                res.set("X-Linked-Size", std::to_string(file->second.size()));
                res.set("X-Repo-Commit", r.commit);
                res.setContentLength(0);
                res.send();
                return;
            }
            serve_bytes(req, res, path, file->second,
                        {{"ETag", "\"" + git_blob_id(file->second) + "\""}, {"X-Repo-Commit", r.commit}});
            return;
        }
        not_found("EntryNotFound");
    }

    void handle_cdn(Poco::Net::HTTPServerRequest &req, Poco::Net::HTTPServerResponse &res) {
        const std::vector<std::string> parts = split(Poco::URI(req.getURI()).getPath());
        std::string id, path, content;
        {
            std::lock_guard lock(mu);
            if (parts.size() == 2 && parts[0] == "lfs") {
                if (auto it = lfs.find(parts[1]); it != lfs.end()) {
                    id = it->second.first;
                    path = it->second.second;
                    content = repos[id].files[path];
                }
            }
        }
        if (path.empty()) {
            res.setStatus(Poco::Net::HTTPResponse::HTTP_NOT_FOUND);
            res.setContentLength(0);
            res.send();
            return;
        }
        serve_bytes(req, res, path, content, {{"ETag", "\"" + parts[1] + "\""}});
    }
};

namespace {

class handler : public Poco::Net::HTTPRequestHandler {
public:
    handler(server::state &s, bool cdn) : s_(s), cdn_(cdn) {}
    void handleRequest(Poco::Net::HTTPServerRequest &req, Poco::Net::HTTPServerResponse &res) override {
        {
            std::lock_guard lock(s_.mu);
            s_.requests.push_back({cdn_ ? "cdn" : "hub", req.getMethod(), req.getURI(), req.get("Range", ""),
                                   req.get("Authorization", "")});
        }
        if (cdn_) s_.handle_cdn(req, res);
        else s_.handle_hub(req, res);
    }

private:
    server::state &s_;
    bool cdn_;
};

class factory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    factory(server::state &s, bool cdn) : s_(s), cdn_(cdn) {}
    Poco::Net::HTTPRequestHandler *createRequestHandler(const Poco::Net::HTTPServerRequest &) override {
        return new handler(s_, cdn_);
    }

private:
    server::state &s_;
    bool cdn_;
};

std::unique_ptr<Poco::Net::HTTPServer> listen(server::state &s, bool cdn, int &port, const tls_files *tls) {
    const Poco::Net::SocketAddress address("127.0.0.1", 0);
    Poco::Net::ServerSocket socket;
    if (tls) {
        Poco::Net::initializeSSL();
        Poco::Net::Context::Ptr context = new Poco::Net::Context(Poco::Net::Context::TLS_SERVER_USE, tls->private_key,
                                                                 tls->certificate, "", Poco::Net::Context::VERIFY_NONE);
        socket = Poco::Net::SecureServerSocket(address, 64, context);
    } else {
        socket = Poco::Net::ServerSocket(address);
    }
    port = socket.address().port();
    auto params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(8);
    params->setKeepAlive(false);
    auto srv = std::make_unique<Poco::Net::HTTPServer>(new factory(s, cdn), socket, params);
    srv->start();
    return srv;
}

}  // namespace

server::server(const tls_files *tls) : state_(std::make_unique<state>()) {
    state_->tls = tls != nullptr;
    state_->hub = listen(*state_, false, state_->hub_port, tls);
    state_->cdn = listen(*state_, true, state_->cdn_port, nullptr);
}

server::~server() {
    release();
    state_->hub->stopAll(true);
    state_->cdn->stopAll(true);
}

std::string server::endpoint() const {
    return (state_->tls ? "https://localhost:" : "http://127.0.0.1:") + std::to_string(state_->hub_port);
}
int server::cdn_port() const { return state_->cdn_port; }

std::string server::add_repo(const std::string &id, repo r) {
    if (r.commit.empty()) {
        std::string all;
        for (const auto &[path, bytes] : r.files) all += path + '\n' + git_blob_id(bytes) + '\n';
        r.commit = git_blob_id(id + '\n' + all);
    }
    std::lock_guard lock(state_->mu);
    for (const auto &[path, bytes] : r.files)
        if (is_lfs(path)) state_->lfs[sha256_hex(bytes)] = {id, path};
    state_->repos[id] = r;
    return r.commit;
}

std::map<std::string, std::string> server::read_tree(const fs::path &dir) {
    std::map<std::string, std::string> files;
    for (const auto &e : fs::recursive_directory_iterator(dir)) {
        if (!e.is_regular_file()) continue;
        std::ifstream in(e.path(), std::ios::binary);
        std::ostringstream s;
        s << in.rdbuf();
        files[e.path().lexically_relative(dir).generic_string()] = s.str();
    }
    return files;
}

void server::break_after(const std::string &path, uint64_t bytes, int times) {
    std::lock_guard lock(state_->mu);
    state_->breaks[path] = {bytes, times};
}

void server::corrupt(const std::string &path, int times) {
    std::lock_guard lock(state_->mu);
    state_->corrupts[path] = times;
}

void server::hold(const std::string &path) {
    std::lock_guard lock(state_->mu);
    state_->held = path;
}

void server::release() {
    {
        std::lock_guard lock(state_->mu);
        state_->held.clear();
    }
    state_->released.notify_all();
}

std::vector<recorded_request> server::requests() const {
    std::lock_guard lock(state_->mu);
    return state_->requests;
}

void server::clear_requests() {
    std::lock_guard lock(state_->mu);
    state_->requests.clear();
}

}  // namespace hub_standin
