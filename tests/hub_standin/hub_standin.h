// A stand-in Hugging Face hub on loopback (Poco HTTPServer, real HTTP) for the downloader tests.
// Two listeners: the hub itself and a "CDN" on another port (another origin), where the LFS-style
// redirects of *.safetensors files point, as the real hub's do.
//   GET  /api/models/{org}/{name}/revision/{rev}  {"id","sha","siblings":[{"rfilename"}]}
//   GET  /api/models/{org}/{name}/tree/{rev}      [{"type":"file","path","size","oid","lfs"}]
//   HEAD|GET /{org}/{name}/resolve/{rev}/{path}   small files: 200 + ETag (git blob id);
//        *.safetensors: 302 to the CDN + X-Linked-Etag (sha256) + X-Linked-Size
//   GET  (CDN) /lfs/{sha256}                      the bytes
// Range "bytes=N-" answers 206 everywhere. Unknown repos: 401 RepoNotFound; gated repos without
// their token: 403 GatedRepo; private repos without their token: 401 RepoNotFound (as the hub).
#pragma once

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace hub_standin {

struct repo {
    std::map<std::string, std::string> files;  // path -> bytes
    std::string commit;                         // "" = derived from the content
    std::string gated_token;                    // non-empty: gated, this token has access
    std::string private_token;                  // non-empty: private, this token has access
    std::vector<std::string> extra_listed;      // names listed in siblings without content (unsafe-name tests)
};

struct recorded_request {
    std::string server;         // "hub" or "cdn"
    std::string method;
    std::string target;         // path and query as sent
    std::string range;          // Range header ("" if none)
    std::string authorization;  // Authorization header ("" if none)
};

// PEM files for a TLS hub listener.
struct tls_files {
    std::string certificate, private_key;
};

class server {
public:
    // Listens on 127.0.0.1, two ephemeral ports. With `tls` the hub listener speaks TLS with that
    // certificate and endpoint() is https://localhost:<port> (the CDN stays plain http).
    explicit server(const tls_files *tls = nullptr);
    ~server();
    server(const server &) = delete;
    server &operator=(const server &) = delete;

    std::string endpoint() const;  // http://127.0.0.1:<hub port> (https://localhost:<port> with TLS)
    int cdn_port() const;

    // Adds or replaces a repository "org/name"; returns its commit sha.
    std::string add_repo(const std::string &id, repo r);
    // Every regular file under `dir` (recursive), e.g. tools/make_demo_model's output.
    static std::map<std::string, std::string> read_tree(const std::filesystem::path &dir);

    // Faults, each for the next `times` GETs of that repository file (hub or CDN):
    // send the headers of the whole answer and `bytes` of the body, then drop the connection.
    void break_after(const std::string &path, uint64_t bytes, int times = 1);
    // serve the content with one byte changed (headers still announce the real ETag).
    void corrupt(const std::string &path, int times = 1);

    // Holds every GET of that file's bytes (hub or CDN) until release(), so a test can look at a
    // download in progress without racing it; release() lets them (and later ones) through.
    void hold(const std::string &path);
    void release();

    std::vector<recorded_request> requests() const;
    void clear_requests();

    struct state;
private:
    std::unique_ptr<state> state_;
};

// sha256 / git blob id of `bytes`, hex.
std::string sha256_hex(const std::string &bytes);
std::string git_blob_id(const std::string &bytes);

}  // namespace hub_standin
