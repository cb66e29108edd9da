#include "core/regular_file.h"

#include "core/model_error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <algorithm>
#include <cstring>

namespace omnihost::models {
namespace {

const char *kind_of(mode_t mode) {
    if (S_ISDIR(mode)) return "a directory";
    if (S_ISFIFO(mode)) return "a FIFO";
    if (S_ISCHR(mode)) return "a character device";
    if (S_ISBLK(mode)) return "a block device";
    if (S_ISSOCK(mode)) return "a socket";
    return "not a regular file";
}

[[noreturn]] void not_regular(const std::filesystem::path &file, const std::string &what, mode_t mode) {
    throw model_error(file.string() + ": cannot read " + what + ": it is " + kind_of(mode) +
                      ", only regular files are read from a model folder");
}

}  // namespace

int open_regular_file(const std::filesystem::path &file, const std::string &what, uint64_t *size_out) {
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0)
        throw model_error(file.string() + ": cannot open " + what + ": " + std::strerror(errno));
    if (!S_ISREG(st.st_mode)) not_regular(file, what, st.st_mode);
    // O_NONBLOCK: if the path was replaced by a FIFO since the stat, open() returns at once instead
    // of waiting for a writer; the fstat below then refuses it. No effect on regular files.
    const int fd = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
    if (fd < 0) throw model_error(file.string() + ": cannot open " + what + ": " + std::strerror(errno));
    if (::fstat(fd, &st) != 0) {
        const int err = errno;
        ::close(fd);
        throw model_error(file.string() + ": cannot stat " + what + ": " + std::strerror(err));
    }
    if (!S_ISREG(st.st_mode)) {
        ::close(fd);
        not_regular(file, what, st.st_mode);
    }
    if (size_out) *size_out = static_cast<uint64_t>(st.st_size);
    return fd;
}

std::string read_regular_file(const std::filesystem::path &file, const std::string &what, uint64_t max_bytes) {
    uint64_t size = 0;
    const int fd = open_regular_file(file, what, &size);
    if (size > max_bytes) {
        ::close(fd);
        throw model_error(file.string() + ": " + what + " is " + std::to_string(size) +
                          " bytes, over the limit of " + std::to_string(max_bytes));
    }
    std::string out;
    out.resize(static_cast<size_t>(size));
    size_t got = 0;
    // Read at most the size fstat reported plus one byte, so a file that grows meanwhile is
    // noticed (and refused) instead of being read without end.
    for (;;) {
        if (got == out.size()) {
            if (out.size() >= max_bytes + 1) break;
            out.resize(std::min<uint64_t>(out.size() + 4096, max_bytes + 1));
        }
        const ssize_t n = ::read(fd, out.data() + got, out.size() - got);
        if (n < 0) {
            if (errno == EINTR) continue;
            const int err = errno;
            ::close(fd);
            throw model_error(file.string() + ": cannot read " + what + ": " + std::strerror(err));
        }
        if (n == 0) break;
        got += static_cast<size_t>(n);
    }
    ::close(fd);
    if (got > max_bytes)
        throw model_error(file.string() + ": " + what + " grew over the limit of " + std::to_string(max_bytes) +
                          " bytes while being read");
    out.resize(got);
    return out;
}

}  // namespace omnihost::models
