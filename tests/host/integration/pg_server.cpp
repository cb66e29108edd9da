#include "pg_server.h"

#include <cstdlib>
#include <stdexcept>

#include <netinet/in.h>
#include <pwd.h>
#include <sys/socket.h>
#include <unistd.h>

namespace omnihost_test {
namespace fs = std::filesystem;

namespace {

std::string find_pg_bin() {
    std::error_code ec;
    std::string best;
    for (fs::directory_iterator it("/usr/lib/postgresql", ec), end; !ec && it != end; it.increment(ec)) {
        const fs::path bin = it->path() / "bin";
        if (fs::exists(bin / "initdb") && fs::exists(bin / "pg_ctl") && bin.string() > best) best = bin.string();
    }
    if (best.empty())
        throw std::runtime_error("PostgreSQL server binaries not found under /usr/lib/postgresql/*/bin "
                                 "(install Debian's postgresql package: scripts/bootstrap.sh test)");
    return best;
}

int free_port() {
    const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = 0;
    socklen_t len = sizeof addr;
    if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr *>(&addr), sizeof addr) != 0 ||
        ::getsockname(fd, reinterpret_cast<sockaddr *>(&addr), &len) != 0)
        throw std::runtime_error("cannot find a free port");
    const int port = ntohs(addr.sin_port);
    ::close(fd);
    return port;
}

void run(const std::string &command) {
    if (std::system(command.c_str()) != 0) throw std::runtime_error("failed: " + command);
}

} // namespace

std::string pg_server::run_as_prefix() const { return ::geteuid() == 0 ? "runuser -u postgres -- " : ""; }

pg_server::pg_server() {
    bin_ = find_pg_bin();
    std::string pattern = (fs::temp_directory_path() / "omnihost-pg-XXXXXX").string();
    if (!::mkdtemp(pattern.data())) throw std::runtime_error("mkdtemp failed");
    dir_ = pattern;
    if (::geteuid() == 0) {
        const passwd *pg = ::getpwnam("postgres");
        if (!pg) throw std::runtime_error("running as root and there is no 'postgres' user to run the server as");
        if (::chown(dir_.c_str(), pg->pw_uid, pg->pw_gid) != 0) throw std::runtime_error("cannot chown the server folder");
    }
    port_ = free_port();
    const std::string data = (dir_ / "db").string();
    run(run_as_prefix() + bin_ + "/initdb -D " + data + " -A trust -U omnihost --no-sync > " + (dir_ / "initdb.log").string() + " 2>&1");
    run(run_as_prefix() + bin_ + "/pg_ctl -D " + data + " -w -t 60 -l " + (dir_ / "server.log").string() +
        " -o \"-p " + std::to_string(port_) + " -k " + dir_.string() +
        " -c listen_addresses=127.0.0.1 -c fsync=off\" start > /dev/null");
    started_ = true;
}

pg_server::~pg_server() {
    if (started_)
        std::system((run_as_prefix() + bin_ + "/pg_ctl -D " + (dir_ / "db").string() + " -m immediate -w stop > /dev/null 2>&1").c_str());
    std::error_code ec;
    fs::remove_all(dir_, ec);
}

std::string pg_server::uri() const {
    return "postgresql://omnihost@127.0.0.1:" + std::to_string(port_) + "/postgres";
}

} // namespace omnihost_test
