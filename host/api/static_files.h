// static_files.h — serves --web-dir at / (index.html for "/"), read-only, never outside the root:
// "..", encoded dots and slashes, backslashes, NUL bytes and symlinks leading out are all refused.
#pragma once

#include <filesystem>
#include <optional>
#include <string>

namespace Poco::Net {
class HTTPServerRequest;
class HTTPServerResponse;
} // namespace Poco::Net

namespace omnihost {

// Maps a raw request target ("/js/app.js?v=1") to a file under `root`, or nullopt with
// `status`/`reason` set (400 bad path, 403 outside the root, 404 missing).
std::optional<std::filesystem::path> resolve_static_path(const std::filesystem::path &root,
                                                         const std::string &raw_target, int &status,
                                                         std::string &reason);

// "text/html; charset=utf-8" etc. by extension; application/octet-stream otherwise.
std::string mime_type_for(const std::filesystem::path &file);

// GET/HEAD of a static file; answers errors as JSON like the API.
void serve_static(const std::filesystem::path &root, Poco::Net::HTTPServerRequest &request,
                  Poco::Net::HTTPServerResponse &response);

} // namespace omnihost
