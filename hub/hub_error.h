// The one error type of the hub downloader: a kind the caller maps to its own status, and a
// message meant for the operator (it names the model, the file and what to do).
#pragma once

#include <stdexcept>
#include <string>

namespace omnihost::hub {

enum class hub_error_kind {
    offline,       // downloads are forbidden (HF_HUB_OFFLINE or the host's --no-download)
    bad_id,        // not a hub id of the form org/name[@revision]
    gated,         // the hub answered 401/403 with its gated-repository error
    unauthorized,  // 401/403 otherwise (private or missing repository, bad token)
    not_found,     // 404: no such repository, revision or file
    unreachable,   // the hub could not be asked for the file list at all (DNS, connection, TLS)
    network,       // connection failures, timeouts, unexpected statuses
    protocol,      // the hub's answer is malformed (JSON, headers, redirects)
    integrity,     // size or ETag/sha256 of a downloaded file does not match
    unsafe,        // a file name or ETag from the server would escape the cache
    cancelled,     // the caller's is_cancelled() said stop
    io,            // the local cache could not be written
};

struct hub_error : std::runtime_error {
    hub_error(hub_error_kind k, const std::string &message) : std::runtime_error(message), kind(k) {}
    hub_error_kind kind;
};

}  // namespace omnihost::hub
