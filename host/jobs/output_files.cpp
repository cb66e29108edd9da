#include "jobs/output_files.h"

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <thread>

#include <fcntl.h>
#include <unistd.h>

namespace omnihost::jobs {
namespace fs = std::filesystem;

std::string extension_for_mime(const std::string &mime_type) {
    static const std::pair<const char *, const char *> known[] = {
        {"video/mp4", "mp4"},   {"video/webm", "webm"}, {"video/x-yuv4mpeg", "y4m"}, {"image/png", "png"},
        {"image/jpeg", "jpg"},  {"image/webp", "webp"}, {"audio/wav", "wav"},        {"audio/x-wav", "wav"},
        {"audio/wave", "wav"},  {"audio/flac", "flac"}, {"audio/ogg", "ogg"},        {"audio/mpeg", "mp3"},
        {"application/json", "json"}, {"text/plain", "txt"}};
    for (const auto &[mime, ext] : known)
        if (mime_type == mime) return ext;
    return "bin";
}

namespace {

void fail(const std::string &what, const std::string &path) {
    throw std::runtime_error(what + " " + path + ": " + std::strerror(errno));
}

void write_all(int fd, const char *data, std::size_t size, const std::string &path) {
    while (size > 0) {
        const ssize_t n = ::write(fd, data, size);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail("cannot write", path);
        }
        data += n;
        size -= static_cast<std::size_t>(n);
    }
}

void fsync_dir(const std::string &dir) {
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0) return; // the rename is done; a folder we cannot open for fsync is not fatal
    ::fsync(fd);
    ::close(fd);
}

// ".<job>.<worker>.tmp" -> job, worker. Job ids hold no '.', worker ids may.
bool parse_temporary(const std::string &name, std::string &job, std::string &worker) {
    if (name.size() < 6 || name[0] != '.' || name.compare(name.size() - 4, 4, ".tmp") != 0) return false;
    const std::string middle = name.substr(1, name.size() - 5);
    const auto dot = middle.find('.');
    if (dot == std::string::npos) return false;
    job = middle.substr(0, dot);
    worker = middle.substr(dot + 1);
    return true;
}

} // namespace

std::string write_output_atomically(const std::string &dir, const std::string &job_id, const std::string &worker,
                                    const std::string &mime_type, const std::string &data) {
    std::error_code ec;
    fs::create_directories(dir, ec);
    const std::string final_path = (fs::path(dir) / (job_id + "." + extension_for_mime(mime_type))).string();
    const std::string temp_path = (fs::path(dir) / ("." + job_id + "." + worker + ".tmp")).string();
    const int fd = ::open(temp_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) fail("cannot create", temp_path);
    try {
        const char *hold = std::getenv("OMNIHOST_TEST_HOLD_OUTPUT_WRITE");
        if (hold && *hold) {
            const std::size_t half = data.size() / 2;
            write_all(fd, data.data(), half, temp_path);
            ::fsync(fd);
            const int marker = ::open(hold, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
            if (marker >= 0) ::close(marker);
            for (;;) std::this_thread::sleep_for(std::chrono::hours(1)); // until the test kills us
        }
        write_all(fd, data.data(), data.size(), temp_path);
        if (::fsync(fd) != 0) fail("cannot fsync", temp_path);
    } catch (...) {
        ::close(fd);
        ::unlink(temp_path.c_str());
        throw;
    }
    if (::close(fd) != 0) {
        ::unlink(temp_path.c_str());
        fail("cannot close", temp_path);
    }
    if (::rename(temp_path.c_str(), final_path.c_str()) != 0) {
        const int saved = errno;
        ::unlink(temp_path.c_str());
        errno = saved;
        fail("cannot rename to", final_path);
    }
    fsync_dir(dir);
    return final_path;
}

int sweep_temporaries(const std::string &dir,
                      const std::function<bool(const std::string &, const std::string &)> &in_progress) {
    std::error_code ec;
    int removed = 0;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        std::string job, worker;
        if (!parse_temporary(it->path().filename().string(), job, worker)) continue;
        if (in_progress && in_progress(job, worker)) continue;
        std::error_code remove_ec;
        if (fs::remove(it->path(), remove_ec)) ++removed;
    }
    return removed;
}

} // namespace omnihost::jobs
