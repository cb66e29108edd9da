#include "http_client.h"

#include <Poco/Exception.h>
#include <Poco/Net/Context.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPSClientSession.h>
#include <Poco/Net/NetException.h>
#include <Poco/Net/SSLManager.h>
#include <Poco/StreamCopier.h>
#include <Poco/URI.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <memory>
#include <mutex>
#include <random>
#include <thread>

namespace omnihost::proxy {

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

Poco::Net::Context::Ptr client_ssl_context() {
    static std::once_flag once;
    static Poco::Net::Context::Ptr ctx;
    std::call_once(once, [] {
        Poco::Net::initializeSSL();
        ctx = new Poco::Net::Context(Poco::Net::Context::TLS_CLIENT_USE, "", "", "",
                                     Poco::Net::Context::VERIFY_RELAXED, 9, true);
    });
    return ctx;
}

// Shared between the caller and the helper thread doing the blocking I/O.
struct http_exchange {
    std::mutex mutex;
    std::condition_variable cv;
    bool done = false;
    bool connected = false;
    std::unique_ptr<Poco::Net::HTTPClientSession> session;
    client_response response;
    transport_failure failure = transport_failure::none;
    std::string failure_text;
    std::atomic<int> abort_reason{0};  // 0 none, 1 cancelled, 2 timeout
};

}  // namespace

upstream_client::upstream_client(std::string base_url, std::string api_key)
    : base_url_(std::move(base_url)), api_key_(std::move(api_key)) {
    Poco::URI uri(base_url_);
    scheme_ = lower(uri.getScheme());
    host_ = uri.getHost();
    port_ = uri.getPort();
    prefix_ = uri.getPath();
    while (!prefix_.empty() && prefix_.back() == '/') prefix_.pop_back();
    if (scheme_ != "http" && scheme_ != "https")
        throw std::invalid_argument("upstream URL must start with http:// or https://: " + base_url_);
    if (host_.empty()) throw std::invalid_argument("upstream URL has no host: " + base_url_);
}

client_response upstream_client::get(const std::string& path, std::chrono::milliseconds timeout,
                                 const cancel_poll& cancelled) const {
    client_request req;
    req.path = path;
    return send(req, timeout, cancelled);
}

client_response upstream_client::post_json(const std::string& path, const std::string& json,
                                       std::chrono::milliseconds timeout,
                                       const cancel_poll& cancelled) const {
    client_request req;
    req.method = "POST";
    req.path = path;
    req.body = json;
    req.content_type = "application/json";
    return send(req, timeout, cancelled);
}

client_response upstream_client::send(const client_request& req, std::chrono::milliseconds timeout,
                                  const cancel_poll& cancelled) const {
    return run(req, timeout, cancelled, nullptr);
}

client_response upstream_client::send_streaming(const client_request& req, std::chrono::milliseconds timeout,
                                            const cancel_poll& cancelled, const line_sink& on_line) const {
    return run(req, timeout, cancelled, &on_line);
}

client_response upstream_client::run(const client_request& req, std::chrono::milliseconds timeout,
                                 const cancel_poll& cancelled, const line_sink* on_line) const {
    auto call = std::make_shared<http_exchange>();
    const std::string target = prefix_ + req.path;
    const auto connect_timeout = std::min<std::chrono::milliseconds>(timeout, std::chrono::seconds(10));

    std::thread worker([this, call, req, target, timeout, connect_timeout, on_line] {
        using namespace Poco::Net;
        try {
            std::unique_ptr<HTTPClientSession> session;
            if (scheme_ == "https")
                session = std::make_unique<HTTPSClientSession>(host_, port_, client_ssl_context());
            else
                session = std::make_unique<HTTPClientSession>(host_, port_);
            session->setTimeout(Poco::Timespan(connect_timeout.count() * 1000),
                                Poco::Timespan(timeout.count() * 1000),
                                Poco::Timespan(timeout.count() * 1000));
            {
                std::lock_guard lock(call->mutex);
                call->session = std::move(session);
            }
            if (call->abort_reason.load()) throw Poco::Exception("aborted before connect");
            HTTPClientSession& s = *call->session;
            HTTPRequest hreq(req.method, target, HTTPMessage::HTTP_1_1);
            hreq.set("Accept", "*/*");
            if (!api_key_.empty()) hreq.set("Authorization", "Bearer " + api_key_);
            for (const auto& [k, v] : req.headers) hreq.set(k, v);
            if (!req.content_type.empty()) hreq.setContentType(req.content_type);
            if (req.method == "POST" || req.method == "PUT" || !req.body.empty())
                hreq.setContentLength(static_cast<std::streamsize>(req.body.size()));
            std::ostream& os = s.sendRequest(hreq);
            {
                std::lock_guard lock(call->mutex);
                call->connected = true;
            }
            os.write(req.body.data(), static_cast<std::streamsize>(req.body.size()));
            HTTPResponse hresp;
            std::istream& is = s.receiveResponse(hresp);
            client_response& out = call->response;
            out.status = static_cast<int>(hresp.getStatus());
            out.reason = hresp.getReason();
            out.content_type = hresp.getContentType();
            for (const auto& [k, v] : hresp) out.headers[lower(k)] = v;
            const bool ok = out.status >= 200 && out.status < 300;
            if (on_line && ok) {
                // Char by char through the stream buffer: each underflow returns whatever the socket
                // has, so lines are delivered as soon as they arrive (a block read would wait).
                std::streambuf* sb = is.rdbuf();
                std::string line;
                for (int c = sb->sbumpc(); c != std::char_traits<char>::eof(); c = sb->sbumpc()) {
                    if (c == '\n') {
                        if (!line.empty() && line.back() == '\r') line.pop_back();
                        (*on_line)(line);
                        line.clear();
                    } else {
                        // One line (one SSE data line) is bounded like a whole body: an upstream
                        // that never sends a newline cannot grow our memory without limit.
                        if (line.size() >= max_body_bytes_)
                            throw body_too_large("a streamed line from the upstream exceeds " +
                                               std::to_string(max_body_bytes_) + " bytes");
                        line += static_cast<char>(c);
                    }
                }
                if (!line.empty()) (*on_line)(line);
            } else {
                // Bounded copy: a lying or endless upstream body is cut off, not buffered whole.
                char buf[65536];
                while (is.read(buf, sizeof buf) || is.gcount() > 0) {
                    const auto n = static_cast<size_t>(is.gcount());
                    if (out.body.size() + n > max_body_bytes_)
                        throw body_too_large("the upstream answer exceeds " + std::to_string(max_body_bytes_) +
                                           " bytes");
                    out.body.append(buf, n);
                }
            }
        } catch (const body_too_large& e) {
            call->failure = transport_failure::too_large;
            call->failure_text = e.what();
        } catch (const Poco::TimeoutException& e) {
            call->failure = transport_failure::timeout;
            call->failure_text = e.displayText();
        } catch (const Poco::Exception& e) {
            call->failure = call->connected ? transport_failure::io : transport_failure::connect;
            call->failure_text = e.displayText();
        } catch (const std::exception& e) {
            call->failure = transport_failure::io;
            call->failure_text = e.what();
        }
        std::lock_guard lock(call->mutex);
        call->done = true;
        call->cv.notify_all();
    });

    const auto deadline = std::chrono::steady_clock::now() + timeout;
    {
        std::unique_lock lock(call->mutex);
        while (!call->done) {
            call->cv.wait_for(lock, std::chrono::milliseconds(100));
            if (call->done) break;
            int reason = 0;
            if (cancelled && cancelled()) reason = 1;
            else if (std::chrono::steady_clock::now() >= deadline) reason = 2;
            if (reason) {
                call->abort_reason = reason;
                if (call->session) {
                    try {
                        call->session->abort();
                    } catch (...) {
                        // the socket may not be open yet; the worker sees abort_reason
                    }
                }
                break;
            }
        }
    }
    worker.join();

    const std::string where = req.method + " " + base_url_ + req.path;
    if (call->abort_reason == 1) throw transport_error(transport_failure::cancelled, "cancelled: " + where);
    if (call->abort_reason == 2 || call->failure == transport_failure::timeout)
        throw transport_error(transport_failure::timeout,
                             "timed out after " + std::to_string(timeout.count() / 1000.0).substr(0, 5) +
                                 " s: " + where);
    if (call->failure == transport_failure::connect)
        throw transport_error(transport_failure::connect,
                             "cannot connect to " + base_url_ + " (" + call->failure_text + ")");
    if (call->failure != transport_failure::none)
        throw transport_error(call->failure, "connection error on " + where + ": " + call->failure_text);
    return std::move(call->response);
}

multipart_form::multipart_form() {
    std::random_device rd;
    boundary_ = "----omnihost" + std::to_string(rd()) + std::to_string(rd());
}

void multipart_form::add_field(const std::string& name, const std::string& value) {
    body_ += "--" + boundary_ + "\r\nContent-Disposition: form-data; name=\"" + name + "\"\r\n\r\n" +
             value + "\r\n";
}

void multipart_form::add_file(const std::string& name, const std::string& filename,
                             const std::string& mime, const std::string& bytes) {
    body_ += "--" + boundary_ + "\r\nContent-Disposition: form-data; name=\"" + name +
             "\"; filename=\"" + filename + "\"\r\nContent-Type: " + mime + "\r\n\r\n" + bytes + "\r\n";
}

std::string multipart_form::content_type() const { return "multipart/form-data; boundary=" + boundary_; }

std::string multipart_form::body() const { return body_ + "--" + boundary_ + "--\r\n"; }

}  // namespace omnihost::proxy
