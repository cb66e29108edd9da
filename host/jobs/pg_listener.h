// pg_listener.h — a PostgreSQL LISTEN on its own libpq connection (Poco::Data has no
// notifications): every host sharing the job database hears the others' job changes at once
// (progress, state) instead of at its next poll. Reconnects after a lost connection.
#pragma once

#include <atomic>
#include <functional>
#include <string>
#include <thread>

namespace omnihost::jobs {

class pg_listener {
public:
    // `conninfo`: libpq keywords; `channel`: a plain identifier. `on_payload` runs on the
    // listener's thread for every notification.
    pg_listener(std::string conninfo, std::string channel, std::function<void(const std::string &)> on_payload);
    ~pg_listener();
    pg_listener(const pg_listener &) = delete;
    pg_listener &operator=(const pg_listener &) = delete;

    void start();
    void stop();

private:
    void run();

    std::string conninfo_;
    std::string channel_;
    std::function<void(const std::string &)> on_payload_;
    std::atomic<bool> stopping_{false};
    std::thread thread_;
};

} // namespace omnihost::jobs
