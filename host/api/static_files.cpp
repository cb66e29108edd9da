#include "api/static_files.h"

#include <algorithm>
#include <fstream>
#include <map>

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/URI.h>

#include "api/http_io.h"

namespace omnihost {
namespace fs = std::filesystem;

namespace {

std::string lower(std::string text) {
    std::transform(text.begin(), text.end(), text.begin(),
                   [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
    return text;
}

bool is_within(const fs::path &root, const fs::path &candidate) {
    auto r = root.begin(), c = candidate.begin();
    for (; r != root.end(); ++r, ++c)
        if (c == candidate.end() || *r != *c) return false;
    return true;
}

} // namespace

std::optional<fs::path> resolve_static_path(const fs::path &root, const std::string &raw_target,
                                            int &status, std::string &reason) {
    std::string raw_path = raw_target.substr(0, raw_target.find_first_of("?#"));
    const std::string lowered = lower(raw_path);
    // Encoded separators have no business in a static path; a decoded "/" or "\" would change
    // which folder the request names after our own checks ran.
    for (const char *bad : {"%2f", "%5c", "%00"}) {
        if (lowered.find(bad) != std::string::npos) {
            status = 400;
            reason = "path: encoded separators or NUL are not allowed";
            return std::nullopt;
        }
    }
    std::string path;
    try {
        Poco::URI::decode(raw_path, path);
    } catch (const Poco::Exception &) {
        status = 400;
        reason = "path: malformed percent-encoding";
        return std::nullopt;
    }
    if (path.empty() || path.front() != '/' || path.find('\\') != std::string::npos ||
        path.find('\0') != std::string::npos) {
        status = 400;
        reason = "path: must be an absolute URL path without backslashes";
        return std::nullopt;
    }
    // Refuse any ".." segment outright rather than normalising it away.
    size_t start = 1;
    while (start <= path.size()) {
        size_t end = path.find('/', start);
        if (end == std::string::npos) end = path.size();
        if (path.compare(start, end - start, "..") == 0) {
            status = 403;
            reason = "path: '..' segments are not allowed";
            return std::nullopt;
        }
        start = end + 1;
    }
    std::string relative = path.substr(1);
    while (!relative.empty() && relative.front() == '/') relative.erase(0, 1);
    if (relative.empty() || relative.back() == '/') relative += "index.html";

    std::error_code ec;
    const fs::path canonical_root = fs::canonical(root, ec);
    if (ec) {
        status = 404;
        reason = "the web folder does not exist";
        return std::nullopt;
    }
    fs::path candidate = canonical_root / fs::path(relative);
    if (fs::is_directory(candidate, ec)) candidate /= "index.html";
    const fs::path resolved = fs::canonical(candidate, ec); // follows symlinks
    if (ec) {
        status = 404;
        reason = "not found: " + path;
        return std::nullopt;
    }
    if (!is_within(canonical_root, resolved)) {
        status = 403;
        reason = "path: leads outside the web folder";
        return std::nullopt;
    }
    if (!fs::is_regular_file(resolved, ec)) {
        status = 404;
        reason = "not found: " + path;
        return std::nullopt;
    }
    return resolved;
}

std::string mime_type_for(const fs::path &file) {
    static const std::map<std::string, std::string> types = {
        {".html", "text/html; charset=utf-8"}, {".htm", "text/html; charset=utf-8"},
        {".js", "text/javascript; charset=utf-8"}, {".mjs", "text/javascript; charset=utf-8"},
        {".css", "text/css; charset=utf-8"},      {".json", "application/json"},
        {".svg", "image/svg+xml"},                {".png", "image/png"},
        {".jpg", "image/jpeg"},                   {".jpeg", "image/jpeg"},
        {".gif", "image/gif"},                    {".webp", "image/webp"},
        {".ico", "image/x-icon"},                 {".txt", "text/plain; charset=utf-8"},
        {".map", "application/json"},             {".woff2", "font/woff2"},
        {".woff", "font/woff"},                   {".mp4", "video/mp4"},
        {".wav", "audio/wav"},                    {".webm", "video/webm"}};
    auto it = types.find(lower(file.extension().string()));
    return it == types.end() ? "application/octet-stream" : it->second;
}

void serve_static(const fs::path &root, Poco::Net::HTTPServerRequest &request,
                  Poco::Net::HTTPServerResponse &response) {
    const std::string &method = request.getMethod();
    if (method != "GET" && method != "HEAD") {
        response.set("Allow", "GET, HEAD");
        send_error(response, {405, "method " + method + " not allowed for static files", ""});
        return;
    }
    int status = 404;
    std::string reason;
    auto file = resolve_static_path(root, request.getURI(), status, reason);
    if (!file) {
        send_error(response, {status, reason, status == 404 ? "" : "path"});
        return;
    }
    std::ifstream in(*file, std::ios::binary);
    if (!in) {
        send_error(response, {404, "not found", ""});
        return;
    }
    std::string content((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK);
    response.setContentType(mime_type_for(*file));
    response.set("Cache-Control", "no-cache");
    response.set("X-Content-Type-Options", "nosniff");
    response.setContentLength(static_cast<std::streamsize>(content.size()));
    if (method == "HEAD") {
        response.send();
        return;
    }
    response.sendBuffer(content.data(), content.size());
}

} // namespace omnihost
