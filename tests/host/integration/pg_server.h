// pg_server.h — a real PostgreSQL server for a test, on loopback, in a temporary folder: initdb +
// pg_ctl from Debian's postgresql package. PostgreSQL refuses to run as root, so as root the
// server runs as the unprivileged `postgres` user the package creates (through runuser).
#pragma once

#include <filesystem>
#include <string>

namespace omnihost_test {

class pg_server {
public:
    pg_server();  // throws std::runtime_error naming what is missing
    ~pg_server(); // immediate stop, folder removed
    pg_server(const pg_server &) = delete;
    pg_server &operator=(const pg_server &) = delete;

    // postgresql://omnihost@127.0.0.1:PORT/postgres (trust authentication on loopback).
    std::string uri() const;
    int port() const { return port_; }

private:
    std::string run_as_prefix() const;
    std::filesystem::path dir_;
    std::string bin_;
    int port_ = 0;
    bool started_ = false;
};

} // namespace omnihost_test
