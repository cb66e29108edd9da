#include "remote_url.h"

#include "proxy_error.h"

#include <algorithm>

namespace omnihost::proxy {

std::string normalize_remote_url(const std::string& input, bool* stripped_v1) {
    std::string url = input;
    auto not_space = [](unsigned char c) { return !std::isspace(c); };
    url.erase(url.begin(), std::find_if(url.begin(), url.end(), not_space));
    url.erase(std::find_if(url.rbegin(), url.rend(), not_space).base(), url.end());
    if (url.empty()) throw invalid_field("remote_url", "is required for run_mode remote");
    // A CR/LF or other control byte would reach the HTTP request line (header injection).
    if (std::any_of(url.begin(), url.end(), [](unsigned char c) { return c < 0x20 || c == 0x7f; }))
        throw invalid_field("remote_url", "must not contain control characters");
    std::string lower = url;
    std::transform(lower.begin(), lower.end(), lower.begin(), [](unsigned char c) { return std::tolower(c); });
    if (lower.rfind("http://", 0) != 0 && lower.rfind("https://", 0) != 0)
        throw invalid_field("remote_url", "must start with http:// or https:// (got '" + url + "')");
    const size_t scheme_len = lower.rfind("https://", 0) == 0 ? 8 : 7;
    if (url.size() <= scheme_len || url[scheme_len] == '/')
        throw invalid_field("remote_url", "has no host (got '" + url + "')");
    while (url.size() > scheme_len && url.back() == '/') url.pop_back();
    bool stripped = false;
    if (url.size() >= scheme_len + 3 && url.compare(url.size() - 3, 3, "/v1") == 0) {
        url.resize(url.size() - 3);
        stripped = true;
        while (url.size() > scheme_len && url.back() == '/') url.pop_back();
    }
    if (url.find_first_of(" \t?#") != std::string::npos)
        throw invalid_field("remote_url", "must be a plain server URL without spaces, query or fragment");
    if (stripped_v1) *stripped_v1 = stripped;
    return url;
}

}  // namespace omnihost::proxy
