// One file of a revision: what the hub says about it (HEAD on its resolve URL: ETag, size, where
// the bytes are) and fetching it into blobs/<etag> — resumable, checked, renamed into place.
#pragma once

#include "hub_http.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>

namespace omnihost::hub {

// What every request of one download shares.
struct hub_session {
    std::string endpoint;  // no trailing '/'
    std::string token;     // sent as a Bearer token, only to the endpoint's own origin
    std::string model_id;  // org/name, for messages
    int timeout_s = 60;
    int attempts = 5;      // per file; a broken connection resumes with Range
    std::function<bool()> is_cancelled;
    std::function<void(const std::string &)> warn;
};

struct file_meta {
    std::string path;   // in the repository
    std::string etag;   // X-Linked-Etag (LFS: sha256) or ETag (git blob sha1), unquoted, checked safe
    uint64_t size = 0;
    bool size_known = false;
    std::string url;    // where the bytes are: the resolve URL or its LFS-style redirect target
};

// Headers for `url`: Accept-Encoding identity, and the token when `url` is on the endpoint.
std::map<std::string, std::string> request_headers(const hub_session &s, const std::string &url);

// Turns an unsuccessful hub answer into the matching hub_error (gated, unauthorized, not found,
// other). `what` says what was asked ("the file list of revision main").
[[noreturn]] void throw_for_status(const hub_session &s, const http_answer &a, const std::string &what);

// HEAD {endpoint}/{id}/resolve/{commit}/{path}, following same-origin relative redirects until
// an answer carries the ETag.
file_meta head_file(const hub_session &s, const std::string &commit, const std::string &path);

// Ensures blobs/<etag> holds the file: already there -> nothing to do; otherwise downloads into
// blobs/<etag>.incomplete (resumed with Range when it exists), checks size and digest (ETag of 64
// hex digits: sha256; of 40: git blob sha1), fsyncs and renames it. A mismatch removes the partial
// file and throws hub_error(integrity). `progress(bytes of this file so far)`.
// Returns false when the blob was already present.
bool fetch_blob(const hub_session &s, const file_meta &meta, const std::filesystem::path &blobs,
                const std::function<void(uint64_t)> &progress);

}  // namespace omnihost::hub
