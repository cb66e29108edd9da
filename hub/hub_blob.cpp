#include "hub_blob.h"

#include "hub_error.h"
#include "hub_repo.h"

#include <Poco/DigestEngine.h>
#include <Poco/SHA1Engine.h>
#include <Poco/SHA2Engine.h>
#include <Poco/URI.h>

#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>

namespace omnihost::hub {
namespace {

namespace fs = std::filesystem;

constexpr int kMaxRedirects = 5;

bool all_hex(const std::string &s) {
    return std::all_of(s.begin(), s.end(), [](char c) { return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'); });
}

// W/"abc" or "abc" -> abc
std::string unquote_etag(std::string e) {
    if (e.rfind("W/", 0) == 0) e = e.substr(2);
    if (e.size() >= 2 && e.front() == '"' && e.back() == '"') e = e.substr(1, e.size() - 2);
    return e;
}

std::string encode_path(const std::string &path) {
    std::string out;
    Poco::URI::encode(path, "?#[]@!$&'()*+,;=%:", out);
    return out;
}

std::string hub_page(const hub_session &s) { return s.endpoint + "/" + s.model_id; }

bool is_redirect(int status) { return status == 301 || status == 302 || status == 303 || status == 307 || status == 308; }

// An open file descriptor, closed on scope exit.
struct fd_guard {
    int fd = -1;
    ~fd_guard() {
        if (fd >= 0) ::close(fd);
    }
};

[[noreturn]] void io_fail(const std::string &what, const fs::path &p) {
    throw hub_error(hub_error_kind::io, what + " " + p.string() + ": " + std::strerror(errno));
}

uint64_t file_size_of(int fd, const fs::path &p) {
    struct stat st {};
    if (::fstat(fd, &st) != 0) io_fail("cannot stat", p);
    return static_cast<uint64_t>(st.st_size);
}

// Feeds bytes [0, n) of `fd` to `engine` (the part a previous attempt or process left).
void hash_prefix(int fd, uint64_t n, Poco::DigestEngine &engine, const fs::path &p) {
    std::unique_ptr<char[]> buf(new char[1 << 16]);
    uint64_t off = 0;
    while (off < n) {
        const ssize_t r = ::pread(fd, buf.get(), std::size_t(std::min<uint64_t>(n - off, 1 << 16)), off_t(off));
        if (r <= 0) io_fail("cannot read back", p);
        engine.update(buf.get(), std::size_t(r));
        off += uint64_t(r);
    }
}

// git's object id of a blob: sha1("blob <size>\0" + content).
std::string git_blob_sha1(int fd, uint64_t size, const fs::path &p) {
    Poco::SHA1Engine engine;
    const std::string header = "blob " + std::to_string(size) + std::string(1, '\0');
    engine.update(header.data(), header.size());
    hash_prefix(fd, size, engine, p);
    return Poco::DigestEngine::digestToHex(engine.digest());
}

}  // namespace

std::map<std::string, std::string> request_headers(const hub_session &s, const std::string &url) {
    std::map<std::string, std::string> h{{"Accept-Encoding", "identity"}};
    if (!s.token.empty() && url_origin(url) == url_origin(s.endpoint)) h["Authorization"] = "Bearer " + s.token;
    return h;
}

void throw_for_status(const hub_session &s, const http_answer &a, const std::string &what) {
    const std::string code = a.header("x-error-code");
    std::string server_says = a.header("x-error-message");
    if (server_says.size() > 300) server_says = server_says.substr(0, 300) + "...";
    const std::string detail = " (HTTP " + std::to_string(a.status) + (server_says.empty() ? "" : ": " + server_says) + ")";
    if ((a.status == 401 || a.status == 403) && code == "GatedRepo")
        throw hub_error(hub_error_kind::gated,
                        "model '" + s.model_id + "' is gated on the hub: accept its conditions on its page " + hub_page(s) +
                            " while logged in, then give omnihost a token of that account in HF_TOKEN" +
                            (s.token.empty() ? " (none is set)" : " (the HF_TOKEN set has no access yet)") + detail);
    if (a.status == 401 || a.status == 403)
        throw hub_error(hub_error_kind::unauthorized,
                        "model '" + s.model_id + "': the hub refused " + what + "; it does not exist or is private (" +
                            hub_page(s) + "); a private model needs HF_TOKEN" +
                            (s.token.empty() ? " (none is set)" : " with access to it") + detail);
    if (a.status == 404)
        throw hub_error(hub_error_kind::not_found,
                        "model '" + s.model_id + "': " + what + " was not found on " + s.endpoint + detail);
    throw hub_error(hub_error_kind::network, "model '" + s.model_id + "': the hub answered " + what + " with" + detail);
}

file_meta head_file(const hub_session &s, const std::string &commit, const std::string &path) {
    file_meta meta;
    meta.path = path;
    std::string url = s.endpoint + "/" + s.model_id + "/resolve/" + commit + "/" + encode_path(path);
    for (int hop = 0;; ++hop) {
        http_request req;
        req.method = "HEAD";
        req.url = url;
        req.headers = request_headers(s, url);
        req.timeout_s = s.timeout_s;
        const http_answer a = http_perform(req);
        const std::string linked = a.header("x-linked-etag");
        const std::string etag = unquote_etag(linked.empty() ? a.header("etag") : linked);
        if (is_redirect(a.status)) {
            const std::string location = a.header("location");
            if (location.empty()) throw hub_error(hub_error_kind::protocol, "a redirect without Location for " + path);
            const std::string next = resolve_location(url, location);
            if (etag.empty()) {
                // A renamed repository: only same-origin hops are followed for metadata.
                if (hop >= kMaxRedirects || url_origin(next) != url_origin(url))
                    throw hub_error(hub_error_kind::protocol, "too many or cross-origin redirects without an ETag for " + path);
                url = next;
                continue;
            }
            meta.url = next;  // LFS-style: the bytes live elsewhere
        } else if (a.status >= 200 && a.status < 300) {
            meta.url = url;
        } else {
            throw_for_status(s, a, "the file '" + path + "'");
        }
        if (etag.empty()) throw hub_error(hub_error_kind::protocol, "the hub sent no ETag for '" + path + "'");
        if (!safe_cache_name(etag))
            throw hub_error(hub_error_kind::unsafe, "the hub sent an unusable ETag for '" + path + "'; refused");
        meta.etag = etag;
        const std::string size = a.header(linked.empty() ? "content-length" : "x-linked-size");
        if (!size.empty()) {
            try {
                std::size_t used = 0;
                meta.size = std::stoull(size, &used);
                meta.size_known = used == size.size();
            } catch (const std::exception &) {
                meta.size_known = false;
            }
        }
        return meta;
    }
}

bool fetch_blob(const hub_session &s, const file_meta &meta, const fs::path &blobs,
                const std::function<void(uint64_t)> &progress) {
    const fs::path blob = blobs / meta.etag;
    const fs::path partial = blobs / (meta.etag + ".incomplete");
    std::error_code ec;
    const auto st = fs::symlink_status(blob, ec);
    if (fs::is_regular_file(st)) return false;  // same content already in the cache
    if (fs::exists(st)) throw hub_error(hub_error_kind::unsafe, blob.string() + " exists and is not a regular file");

    fd_guard f;
    f.fd = ::open(partial.c_str(), O_RDWR | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
    if (f.fd < 0) io_fail("cannot open", partial);
    if (::flock(f.fd, LOCK_EX | LOCK_NB) != 0)
        throw hub_error(hub_error_kind::io, partial.string() + " is being downloaded by another process");

    const bool sha256 = meta.etag.size() == 64 && all_hex(meta.etag);
    const bool git_sha1 = meta.etag.size() == 40 && all_hex(meta.etag);
    Poco::SHA2Engine engine(Poco::SHA2Engine::SHA_256);
    uint64_t hashed = 0;     // bytes of the partial file fed to `engine`
    uint64_t offset = 0;     // bytes in the partial file
    std::string last_error;
    bool complete = false;
    for (int attempt = 1; attempt <= std::max(1, s.attempts) && !complete; ++attempt) {
        offset = file_size_of(f.fd, partial);
        if (meta.size_known && offset > meta.size) {
            if (::ftruncate(f.fd, 0) != 0) io_fail("cannot truncate", partial);
            offset = 0;
        }
        if (sha256 && hashed != offset) {
            engine.reset();
            hash_prefix(f.fd, offset, engine, partial);
            hashed = offset;
        }
        if (meta.size_known && offset == meta.size && offset > 0) {
            complete = true;
            break;
        }
        if (progress) progress(offset);
        std::string url = meta.url;
        bool restart = false;
        try {
            for (int hop = 0;; ++hop) {
                http_request req;
                req.url = url;
                req.headers = request_headers(s, url);
                if (offset > 0) req.headers["Range"] = "bytes=" + std::to_string(offset) + "-";
                req.timeout_s = s.timeout_s;
                req.on_start = [&](const http_answer &a) {
                    if (a.status == 206) {
                        const std::string range = a.header("content-range");
                        if (range.rfind("bytes " + std::to_string(offset) + "-", 0) != 0)
                            throw hub_error(hub_error_kind::protocol, "the server resumed '" + meta.path +
                                                                          "' at the wrong place (" + range + ")");
                    } else {  // the whole file again: start over
                        if (::ftruncate(f.fd, 0) != 0) io_fail("cannot truncate", partial);
                        offset = hashed = 0;
                        engine.reset();
                    }
                };
                req.sink = [&](const char *data, std::size_t n) {
                    if (s.is_cancelled && s.is_cancelled())
                        throw hub_error(hub_error_kind::cancelled, "download of '" + s.model_id + "' cancelled");
                    if (meta.size_known && offset + n > meta.size)
                        throw hub_error(hub_error_kind::integrity, "'" + meta.path + "' is larger than the " +
                                                                       std::to_string(meta.size) + " bytes the hub announced");
                    std::size_t done = 0;
                    while (done < n) {
                        const ssize_t w = ::pwrite(f.fd, data + done, n - done, off_t(offset + done));
                        if (w <= 0) io_fail("cannot write", partial);
                        done += std::size_t(w);
                    }
                    if (sha256) engine.update(data, n);
                    offset += n;
                    hashed = sha256 ? offset : hashed;
                    if (progress) progress(offset);
                };
                const http_answer a = http_perform(req);
                if (is_redirect(a.status)) {
                    if (hop >= kMaxRedirects) throw hub_error(hub_error_kind::protocol, "too many redirects for '" + meta.path + "'");
                    url = resolve_location(url, a.header("location"));
                    continue;
                }
                if (a.status == 416) {  // our partial file is not a prefix the server knows
                    restart = true;
                    break;
                }
                if (a.status < 200 || a.status >= 300) throw_for_status(s, a, "the file '" + meta.path + "'");
                complete = true;
                break;
            }
        } catch (const hub_error &e) {
            if (e.kind != hub_error_kind::network) throw;
            last_error = e.what();
            if (s.warn)
                s.warn("'" + meta.path + "': " + last_error + "; " +
                       (attempt < s.attempts ? "resuming at byte " + std::to_string(file_size_of(f.fd, partial))
                                             : std::string("giving up (the partial file is kept for the next start)")));
            continue;
        }
        if (restart) {
            if (::ftruncate(f.fd, 0) != 0) io_fail("cannot truncate", partial);
            hashed = 0;
            engine.reset();
        }
    }
    if (!complete)
        throw hub_error(hub_error_kind::network, "model '" + s.model_id + "': could not download '" + meta.path + "' after " +
                                                     std::to_string(std::max(1, s.attempts)) + " attempts: " + last_error);

    const uint64_t size = file_size_of(f.fd, partial);
    auto refuse = [&](const std::string &why) {
        fs::remove(partial, ec);
        throw hub_error(hub_error_kind::integrity, "model '" + s.model_id + "': '" + meta.path + "' " + why +
                                                       "; the download was discarded");
    };
    if (meta.size_known && size != meta.size)
        refuse("has " + std::to_string(size) + " bytes, the hub announced " + std::to_string(meta.size));
    if (sha256) {
        const std::string got = Poco::DigestEngine::digestToHex(engine.digest());
        if (got != meta.etag) refuse("has sha256 " + got + ", the hub's ETag says " + meta.etag);
    } else if (git_sha1) {
        const std::string got = git_blob_sha1(f.fd, size, partial);
        if (got != meta.etag) refuse("has git blob id " + got + ", the hub's ETag says " + meta.etag);
    } else if (s.warn) {
        s.warn("'" + meta.path + "': ETag '" + meta.etag + "' is neither a sha256 nor a git blob id; content not checked");
    }
    if (::fsync(f.fd) != 0) io_fail("cannot fsync", partial);
    fs::rename(partial, blob, ec);
    if (ec) throw hub_error(hub_error_kind::io, "cannot rename " + partial.string() + ": " + ec.message());
    return true;
}

}  // namespace omnihost::hub
