#include "app/access_token.h"

#include <stdexcept>

#include <Poco/Net/DNS.h>
#include <Poco/Net/IPAddress.h>
#include <sys/random.h>

namespace omnihost {

std::string generate_access_token() {
    unsigned char bytes[32];
    size_t filled = 0;
    while (filled < sizeof bytes) {
        const ssize_t got = ::getrandom(bytes + filled, sizeof bytes - filled, 0);
        if (got <= 0) throw std::runtime_error("getrandom failed: cannot generate an access token");
        filled += static_cast<size_t>(got);
    }
    static const char hex[] = "0123456789abcdef";
    std::string token;
    for (unsigned char b : bytes) {
        token += hex[b >> 4];
        token += hex[b & 15];
    }
    return token;
}

bool is_reachable_beyond_loopback(const std::string &bound_address) {
    Poco::Net::IPAddress address;
    if (!Poco::Net::IPAddress::tryParse(bound_address, address)) return true;
    return !address.isLoopback();
}

std::vector<std::string> access_urls(const std::string &bound_address, bool wildcard, unsigned port,
                                     const std::string &token) {
    std::string name = bound_address;
    if (wildcard) {
        try {
            name = Poco::Net::DNS::hostName();
        } catch (const Poco::Exception &) {
            name.clear();
        }
    } else if (name.find(':') != std::string::npos) {
        name = "[" + name + "]";
    }
    std::string tail = ":";
    tail += std::to_string(port);
    tail += "/?token=";
    tail += token;
    std::vector<std::string> urls;
    if (!name.empty()) urls.push_back("http://" + name + tail);
    if (wildcard) urls.push_back("http://127.0.0.1" + tail); // a wildcard listens on loopback too
    return urls;
}

} // namespace omnihost
