#include "metrics/metrics_handler.h"

#include <chrono>
#include <memory>

#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "api/api_context.h"
#include "api/http_io.h"
#include "metrics/host_metrics.h"
#include "metrics/prometheus_text.h"

namespace omnihost::metrics {
namespace {

class metered_handler : public Poco::Net::HTTPRequestHandler {
public:
    metered_handler(host_metric_set &metrics, Poco::Net::HTTPRequestHandler *inner, std::string route, std::string method)
        : metrics_(metrics), inner_(inner), route_(std::move(route)), method_(std::move(method)),
          began_(std::chrono::steady_clock::now()) {}

    void handleRequest(Poco::Net::HTTPServerRequest &request, Poco::Net::HTTPServerResponse &response) override {
        try {
            inner_->handleRequest(request, response);
        } catch (...) {
            record(response);
            throw;
        }
        record(response);
    }

private:
    void record(const Poco::Net::HTTPServerResponse &response) {
        const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - began_).count();
        metrics_.observe_http(route_, method_, static_cast<int>(response.getStatus()), seconds);
    }

    host_metric_set &metrics_;
    std::unique_ptr<Poco::Net::HTTPRequestHandler> inner_;
    std::string route_, method_;
    std::chrono::steady_clock::time_point began_;
};

} // namespace

void handle_metrics(api_context &context, Poco::Net::HTTPServerRequest &request,
                    Poco::Net::HTTPServerResponse &response) {
    if (request.getMethod() != "GET" && request.getMethod() != "HEAD") {
        response.set("Allow", "GET, HEAD");
        send_error(response, {405, "method " + request.getMethod() + " not allowed on /metrics (use GET)", ""});
        return;
    }
    if (!context.metrics) {
        send_error(response, {503, "metrics are not collected in this host", ""});
        return;
    }
    const std::string text = context.metrics->render(context);
    response.setStatusAndReason(Poco::Net::HTTPResponse::HTTP_OK);
    response.setContentType(kTextContentType);
    response.set("Cache-Control", "no-cache");
    response.setContentLength(static_cast<std::streamsize>(text.size()));
    if (request.getMethod() == "HEAD") response.send();
    else response.sendBuffer(text.data(), text.size());
}

Poco::Net::HTTPRequestHandler *metered(host_metric_set &metrics, Poco::Net::HTTPRequestHandler *inner,
                                       std::string route, std::string method) {
    return new metered_handler(metrics, inner, std::move(route), std::move(method));
}

} // namespace omnihost::metrics
