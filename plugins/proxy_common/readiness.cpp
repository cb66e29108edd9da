#include "readiness.h"

#include "proxy_error.h"

#include <common/json_limits.h>

#include <thread>

namespace omnihost::proxy {

using nlohmann::json;
using mono_clock = std::chrono::steady_clock;

namespace {

json models_from(const std::string& body) {
    json out = json::array();
    json j = omnihost::parse_json_bounded_or_discarded(body);
    if (j.is_discarded() || !j.is_object() || !j.contains("data") || !j["data"].is_array()) return out;
    for (const auto& m : j["data"]) {
        if (!m.is_object() || !m.contains("id")) continue;
        json e = {{"id", m["id"]}};
        for (const char* k : {"owned_by", "max_model_len", "root"})
            e[k] = m.contains(k) ? m[k] : json();
        out.push_back(e);
    }
    return out;
}

}  // namespace

probe_result probe_upstream(const upstream_client& client, std::chrono::milliseconds timeout, bool want_models,
                           const cancel_poll& cancelled) {
    probe_result r;
    try {
        client_response h = client.get("/health", timeout, cancelled);
        if (h.status == 200) {
            r.ready = true;
            r.via = "/health";
            if (!want_models) return r;
        } else {
            r.detail = "/health answered " + std::to_string(h.status);
            r.auth_failed = h.status == 401 || h.status == 403;
        }
    } catch (const transport_error& e) {
        if (e.kind() == transport_failure::cancelled) throw proxy_error(OMNIHOST_CANCELLED, "cancelled");
        r.detail = e.what();
        if (e.kind() == transport_failure::connect) return r;  // nothing listens: /v1/models would fail too
    }
    try {
        client_response m = client.get("/v1/models", timeout, cancelled);
        if (m.status == 200) {
            r.models = models_from(m.body);
            if (!r.ready) {
                r.ready = true;
                r.via = "/v1/models";
            }
        } else {
            if (!r.ready) r.detail += (r.detail.empty() ? "" : "; ") + std::string("/v1/models answered ") +
                                      std::to_string(m.status);
            r.auth_failed = r.auth_failed || m.status == 401 || m.status == 403;
        }
    } catch (const transport_error& e) {
        if (e.kind() == transport_failure::cancelled) throw proxy_error(OMNIHOST_CANCELLED, "cancelled");
        if (!r.ready) r.detail += (r.detail.empty() ? "" : "; ") + std::string(e.what());
    }
    return r;
}

probe_result wait_until_ready(const upstream_client& client, std::chrono::milliseconds start_timeout,
                             std::chrono::milliseconds probe_timeout, const wait_hooks& hooks) {
    const auto t0 = mono_clock::now();
    const auto deadline = t0 + start_timeout;
    for (;;) {
        if (hooks.cancelled && hooks.cancelled()) throw proxy_error(OMNIHOST_CANCELLED, "cancelled");
        if (hooks.dead_reason) {
            std::string why = hooks.dead_reason();
            if (!why.empty()) throw proxy_error(OMNIHOST_UNAVAILABLE, why);
        }
        probe_result r = probe_upstream(client, probe_timeout, false, hooks.cancelled);
        if (r.ready) return r;
        int elapsed = static_cast<int>(std::chrono::duration_cast<std::chrono::seconds>(mono_clock::now() - t0).count());
        if (mono_clock::now() >= deadline)
            throw proxy_error(OMNIHOST_UNAVAILABLE, "vLLM-Omni did not become ready within " +
                                                       std::to_string(start_timeout.count() / 1000) +
                                                       " s (start_timeout_s); last probe: " + r.detail);
        if (hooks.progress) hooks.progress(elapsed, "waiting for " + client.base_url() + "/health (" +
                                                        std::to_string(elapsed) + " s): " + r.detail);
        for (int i = 0; i < 5; ++i) {
            if (hooks.cancelled && hooks.cancelled()) throw proxy_error(OMNIHOST_CANCELLED, "cancelled");
            if (hooks.dead_reason) {
                std::string why = hooks.dead_reason();
                if (!why.empty()) throw proxy_error(OMNIHOST_UNAVAILABLE, why);
            }
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
        }
    }
}

}  // namespace omnihost::proxy

#include <Poco/Net/SocketAddress.h>
#include <Poco/Net/StreamSocket.h>

namespace omnihost::proxy {
bool local_port_in_use(int port) {
    try {
        Poco::Net::StreamSocket s;
        s.connect(Poco::Net::SocketAddress("127.0.0.1", static_cast<Poco::UInt16>(port)), Poco::Timespan(0, 300000));
        s.close();
        return true;
    } catch (...) {
        return false;
    }
}
}  // namespace omnihost::proxy
