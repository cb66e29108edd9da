#include "app/http_server.h"

#include <chrono>
#include <string>

#include <Poco/Net/HTTPServerConnection.h>
#include <Poco/Net/StreamSocket.h>
#include <Poco/Net/TCPServerConnectionFactory.h>
#include <nlohmann/json.hpp>

#include "api/browser_guard.h"

namespace omnihost {
namespace {

// A served connection: Poco's own, plus the count it holds until it closes.
class counted_connection : public Poco::Net::HTTPServerConnection {
public:
    counted_connection(const Poco::Net::StreamSocket &socket, Poco::Net::HTTPServerParams::Ptr params,
                      Poco::Net::HTTPRequestHandlerFactory::Ptr factory, std::shared_ptr<std::atomic<int>> open)
        : HTTPServerConnection(socket, params, factory), open_(std::move(open)) {}
    ~counted_connection() override { open_->fetch_sub(1); }

private:
    std::shared_ptr<std::atomic<int>> open_;
};

// Past the cap: read the request head (so closing does not reset the connection under the
// client before it reads the answer), answer 503 with the usual JSON error and headers, close.
class busy_connection : public Poco::Net::TCPServerConnection {
public:
    busy_connection(const Poco::Net::StreamSocket &socket, int max_connections)
        : TCPServerConnection(socket), max_connections_(max_connections) {}

    void run() override {
        auto &sock = socket();
        try {
            sock.setReceiveTimeout(Poco::Timespan(2, 0));
            sock.setSendTimeout(Poco::Timespan(2, 0));
            std::string head;
            char buffer[4096];
            while (head.size() < 16384 && head.find("\r\n\r\n") == std::string::npos) {
                const int got = sock.receiveBytes(buffer, sizeof buffer);
                if (got <= 0) break;
                head.append(buffer, static_cast<size_t>(got));
            }
            const std::string body =
                nlohmann::json({{"success", false},
                                {"error", "server busy: " + std::to_string(max_connections_) +
                                              " connections are open (--max-connections); try again"}})
                    .dump();
            std::string answer = "HTTP/1.1 503 Service Unavailable\r\n"
                                 "Content-Type: application/json\r\n"
                                 "Content-Length: " + std::to_string(body.size()) + "\r\n"
                                 "Connection: close\r\n"
                                 "Retry-After: 1\r\n"
                                 "Cache-Control: no-cache\r\n";
            for (const auto &[name, value] : security_headers("")) answer += name + ": " + value + "\r\n";
            answer += "\r\n" + body;
            sock.sendBytes(answer.data(), static_cast<int>(answer.size()));
            sock.shutdownSend();
            // Let the client read the answer before the close; a short, bounded drain.
            sock.setReceiveTimeout(Poco::Timespan(0, 500000));
            const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(1);
            while (std::chrono::steady_clock::now() < deadline && sock.receiveBytes(buffer, sizeof buffer) > 0) {
            }
        } catch (...) {
            // The client went away: nothing to tell it.
        }
    }

private:
    int max_connections_;
};

class capped_connection_factory : public Poco::Net::TCPServerConnectionFactory {
public:
    capped_connection_factory(Poco::Net::HTTPServerParams::Ptr params,
                            Poco::Net::HTTPRequestHandlerFactory::Ptr factory, int max_connections,
                            std::shared_ptr<std::atomic<int>> open)
        : params_(std::move(params)), factory_(std::move(factory)), max_(max_connections), open_(std::move(open)) {}

    Poco::Net::TCPServerConnection *createConnection(const Poco::Net::StreamSocket &socket) override {
        if (open_->fetch_add(1) >= max_) {
            open_->fetch_sub(1);
            return new busy_connection(socket, max_);
        }
        try {
            return new counted_connection(socket, params_, factory_, open_);
        } catch (...) {
            open_->fetch_sub(1);
            throw;
        }
    }

private:
    Poco::Net::HTTPServerParams::Ptr params_;
    Poco::Net::HTTPRequestHandlerFactory::Ptr factory_;
    int max_;
    std::shared_ptr<std::atomic<int>> open_;
};

} // namespace

capped_http_server::capped_http_server(Poco::SharedPtr<stoppable_handler_factory> factory, Poco::ThreadPool &pool,
                                   const Poco::Net::ServerSocket &socket, Poco::Net::HTTPServerParams::Ptr params,
                                   int max_connections)
    : capped_http_server(std::move(factory), pool, socket, std::move(params), max_connections,
                       std::make_shared<std::atomic<int>>(0)) {}

capped_http_server::capped_http_server(Poco::SharedPtr<stoppable_handler_factory> factory, Poco::ThreadPool &pool,
                                   const Poco::Net::ServerSocket &socket, Poco::Net::HTTPServerParams::Ptr params,
                                   int max_connections, std::shared_ptr<std::atomic<int>> open)
    : Poco::Net::TCPServer(new capped_connection_factory(params, Poco::Net::HTTPRequestHandlerFactory::Ptr(factory),
                                                       max_connections, open),
                           pool, socket, params),
      factory_(std::move(factory)), open_(std::move(open)) {}

capped_http_server::~capped_http_server() {
    try {
        stop();
    } catch (...) {
    }
}

void capped_http_server::stop_all(bool abort_current) {
    stop();
    factory_->notify_server_stopped(abort_current);
}

} // namespace omnihost
