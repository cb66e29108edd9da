#include "hub_http.h"

#include "hub_error.h"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/URI.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <istream>
#include <memory>
#include <mutex>

namespace omnihost::hub {
namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return s;
}

Poco::URI parse_url(const std::string &url) {
    try {
        Poco::URI uri(url);
        const std::string scheme = lower(uri.getScheme());
        if ((scheme != "http" && scheme != "https") || uri.getHost().empty())
            throw hub_error(hub_error_kind::protocol, "not an http(s) URL: '" + url + "'");
        return uri;
    } catch (const Poco::Exception &e) {
        throw hub_error(hub_error_kind::protocol, "not a usable URL: '" + url + "' (" + e.displayText() + ")");
    }
}

// The client context: the system CA store (OpenSSL's default paths, so SSL_CERT_FILE /
// SSL_CERT_DIR add a private mirror's CA), the peer certificate and host name verified. Made
// again when those variables change.
Poco::Net::Context::Ptr tls_context() {
    static std::mutex mutex;
    static Poco::Net::Context::Ptr context;
    static std::string made_for;
    const char *file = std::getenv("SSL_CERT_FILE");
    const char *dir = std::getenv("SSL_CERT_DIR");
    const std::string key = std::string(file ? file : "") + '\n' + (dir ? dir : "");
    std::lock_guard lock(mutex);
    if (!context || key != made_for) {
        Poco::Net::initializeSSL();
        context = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", "",
                                         Poco::Net::Context::VERIFY_RELAXED, 9, true);
        made_for = key;
    }
    return context;
}

std::unique_ptr<Poco::Net::HTTPClientSession> open_session(const Poco::URI &uri, int timeout_s) {
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    if (lower(uri.getScheme()) == "https")
        session = std::make_unique<Poco::Net::HTTPSClientSession>(uri.getHost(), uri.getPort(), tls_context());
    else
        session = std::make_unique<Poco::Net::HTTPClientSession>(uri.getHost(), uri.getPort());
    session->setTimeout(Poco::Timespan(timeout_s, 0));
    session->setKeepAlive(false);
    return session;
}

}  // namespace

std::string http_answer::header(const std::string &lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
}

std::string url_origin(const std::string &url) {
    const Poco::URI uri = parse_url(url);
    return lower(uri.getScheme()) + "://" + lower(uri.getHost()) + ":" + std::to_string(uri.getPort());
}

std::string resolve_location(const std::string &base, const std::string &location) {
    try {
        Poco::URI uri(base);
        uri.resolve(location);
        return uri.toString();
    } catch (const Poco::Exception &e) {
        throw hub_error(hub_error_kind::protocol, "unusable redirect Location '" + location + "' (" + e.displayText() + ")");
    }
}

http_answer http_perform(const http_request &request) {
    const Poco::URI uri = parse_url(request.url);
    http_answer answer;
    try {
        auto session = open_session(uri, request.timeout_s);
        const std::string path_etc = uri.getPathEtc();
        const std::string target = path_etc.empty() ? std::string(1, '/') : path_etc;
        Poco::Net::HTTPRequest req(request.method, target, Poco::Net::HTTPMessage::HTTP_1_1);
        req.set("User-Agent", "omnihost-hub/1");
        for (const auto &[name, value] : request.headers) req.set(name, value);
        session->sendRequest(req);
        Poco::Net::HTTPResponse resp;
        std::istream &body = session->receiveResponse(resp);
        answer.status = static_cast<int>(resp.getStatus());
        for (const auto &[name, value] : resp) answer.headers[lower(name)] = value;
        if (request.method == "HEAD") return answer;

        const bool streamed = request.sink && answer.status >= 200 && answer.status < 300;
        if (streamed && request.on_start) request.on_start(answer);
        const std::streamsize expected = resp.hasContentLength() ? resp.getContentLength64() : -1;
        std::streamsize received = 0;
        char buffer[64 * 1024];
        while (body) {
            body.read(buffer, sizeof buffer);
            const std::streamsize n = body.gcount();
            if (n <= 0) break;
            received += n;
            if (streamed) {
                request.sink(buffer, static_cast<std::size_t>(n));
            } else {
                if (answer.body.size() + std::size_t(n) > request.max_kept_bytes)
                    throw hub_error(hub_error_kind::protocol, "answer from " + request.url + " is larger than " +
                                                                  std::to_string(request.max_kept_bytes) + " bytes");
                answer.body.append(buffer, std::size_t(n));
            }
        }
        // A fixed-length body that ends early is a closed connection, not the end of the file.
        if (expected >= 0 && received != expected)
            throw hub_error(hub_error_kind::network, "connection closed after " + std::to_string(received) + " of " +
                                                         std::to_string(expected) + " bytes from " + request.url);
    } catch (const hub_error &) {
        throw;
    } catch (const Poco::TimeoutException &e) {
        throw hub_error(hub_error_kind::network, "timed out talking to " + url_origin(request.url) + " (" + e.displayText() + ")");
    } catch (const Poco::Exception &e) {
        throw hub_error(hub_error_kind::network, "connection to " + url_origin(request.url) + " failed: " + e.displayText());
    }
    return answer;
}

}  // namespace omnihost::hub
