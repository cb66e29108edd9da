#include "jobs/pg_listener.h"

#include <chrono>

#include <libpq-fe.h>
#include <poll.h>

#include <spdlog/spdlog.h>

namespace omnihost::jobs {

pg_listener::pg_listener(std::string conninfo, std::string channel, std::function<void(const std::string &)> on_payload)
    : conninfo_(std::move(conninfo)), channel_(std::move(channel)), on_payload_(std::move(on_payload)) {}

pg_listener::~pg_listener() { stop(); }

void pg_listener::start() { thread_ = std::thread([this] { run(); }); }

void pg_listener::stop() {
    stopping_ = true;
    if (thread_.joinable()) thread_.join();
}

void pg_listener::run() {
    PGconn *conn = nullptr;
    bool warned = false;
    while (!stopping_) {
        if (!conn) {
            conn = PQconnectdb(conninfo_.c_str());
            PGresult *listened = PQstatus(conn) == CONNECTION_OK ? PQexec(conn, ("LISTEN " + channel_).c_str()) : nullptr;
            const bool ok = listened && PQresultStatus(listened) == PGRES_COMMAND_OK;
            if (listened) PQclear(listened);
            if (!ok) {
                if (!warned) spdlog::warn("jobs: cannot listen for other hosts' job events: {}", PQerrorMessage(conn));
                warned = true;
                PQfinish(conn);
                conn = nullptr;
                // Retried every second; the poll of the job records still works meanwhile.
                for (int i = 0; i < 10 && !stopping_; ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
                continue;
            }
            warned = false;
        }
        pollfd fd{PQsocket(conn), POLLIN, 0};
        // A short timeout: stop() is noticed within it.
        if (::poll(&fd, 1, 100) < 0) continue;
        if (!PQconsumeInput(conn)) {
            spdlog::warn("jobs: lost the connection listening for other hosts' job events; reconnecting");
            PQfinish(conn);
            conn = nullptr;
            continue;
        }
        while (PGnotify *note = PQnotifies(conn)) {
            const std::string payload = note->extra ? note->extra : "";
            PQfreemem(note);
            try {
                on_payload_(payload);
            } catch (const std::exception &e) {
                spdlog::error("jobs: handling a job event from another host: {}", e.what());
            }
        }
    }
    if (conn) PQfinish(conn);
}

} // namespace omnihost::jobs
