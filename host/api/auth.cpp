#include "api/auth.h"

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/URI.h>

namespace omnihost {

bool constant_time_equals(const std::string &a, const std::string &b) {
    unsigned char diff = a.size() == b.size() ? 0 : 1;
    const size_t n = a.size() > b.size() ? a.size() : b.size();
    for (size_t i = 0; i < n; ++i) {
        const unsigned char x = i < a.size() ? a[i] : 0;
        const unsigned char y = i < b.size() ? b[i] : 0;
        diff |= x ^ y;
    }
    return diff == 0;
}

bool request_is_authorized(const Poco::Net::HTTPServerRequest &request, const std::string &token,
                           bool allow_query) {
    if (token.empty()) return true;
    const std::string header = request.get("Authorization", "");
    static const std::string prefix = "Bearer ";
    if (header.size() > prefix.size() && header.compare(0, prefix.size(), prefix) == 0 &&
        constant_time_equals(header.substr(prefix.size()), token))
        return true;
    if (allow_query) {
        try {
            const Poco::URI uri(request.getURI());
            for (const auto &[key, value] : uri.getQueryParameters())
                if (key == "token" && constant_time_equals(value, token)) return true;
        } catch (const Poco::Exception &) {
            return false;
        }
    }
    return false;
}

} // namespace omnihost
