#include "services/settings_store.h"

#include <cerrno>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fstream>
#include <sstream>
#include <unistd.h>

#include "common/json_limits.h"

namespace omnihost {
namespace {

namespace fs = std::filesystem;

std::string check_no_control(const std::string &value) {
    for (unsigned char c : value)
        if (c < 0x20) return "must not contain control characters";
    return "";
}

std::string check_url_or_empty(const std::string &value) {
    if (value.empty()) return "";
    if (value.rfind("http://", 0) != 0 && value.rfind("https://", 0) != 0) return "must start with http:// or https://";
    if (value.find_first_of(" \t\r\n\"'`") != std::string::npos) return "must not contain spaces or quotes";
    return "";
}

field_spec text(double max_bytes, const char *fallback, std::string (*check)(const std::string &) = check_no_control) {
    field_spec spec;
    spec.kind = field_kind::String;
    spec.max = max_bytes;
    spec.nullable = true;
    spec.check = check;
    spec.default_value = fallback;
    return spec;
}

bool write_all(int fd, const std::string &text) {
    size_t done = 0;
    while (done < text.size()) {
        const ssize_t wrote = ::write(fd, text.data() + done, text.size() - done);
        if (wrote < 0 && errno == EINTR) continue;
        if (wrote <= 0) return false;
        done += static_cast<size_t>(wrote);
    }
    return true;
}

} // namespace

const field_schema &settings_store::schema() {
    static const field_schema table = [] {
        field_spec run_mode = text(16, "subprocess");
        run_mode.allowed = {"subprocess", "container", "remote"};
        field_spec model_type = text(16, "video");
        model_type.allowed = {"video", "audio", "image", "tts", "omni"};
        field_spec port;
        port.kind = field_kind::Integer;
        port.min = 1;
        port.max = 65535;
        port.nullable = true;
        port.default_value = 8000; // vLLM's own default; 8091 is omnihost's
        return field_schema{
            {"omni_run_mode", run_mode},
            {"omni_remote_url", text(2048, "", check_url_or_empty)},
            {"omni_port", port},
            {"omni_venv_path", text(4096, "")},
            {"omni_gpu_device", text(64, "")},
            {"omni_model_type", model_type},
        };
    }();
    return table;
}

settings_store::settings_store(fs::path file) : file_(std::move(file)) {
    std::error_code ec;
    if (!fs::exists(file_, ec)) return;
    std::ifstream in(file_, std::ios::binary);
    std::stringstream text;
    text << in.rdbuf();
    nlohmann::json loaded = parse_json_bounded_or_discarded(text.str());
    std::optional<field_error> problem;
    if (loaded.is_object() && loaded.contains("updated_at") && loaded["updated_at"].is_string())
        updated_at_ = loaded["updated_at"].get<std::string>().substr(0, 64);
    if (loaded.is_object()) {
        // Keys this version does not know are dropped (as the playground did), the rest checked.
        for (auto it = loaded.begin(); it != loaded.end();)
            it = schema().count(it.key()) ? std::next(it) : loaded.erase(it);
        problem = validate_object(loaded, schema(), false);
    }
    if (!loaded.is_object() || problem) {
        load_problem_ = file_.string() + ": " + (problem ? problem->message : "not a JSON object") +
                        "; kept as " + file_.string() + ".bak, defaults used";
        fs::rename(file_, fs::path(file_.string() + ".bak"), ec);
        return;
    }
    for (auto it = loaded.begin(); it != loaded.end();)
        it = it->is_null() ? loaded.erase(it) : std::next(it);
    values_ = std::move(loaded);
}

nlohmann::json settings_store::with_defaults() const {
    nlohmann::json out = values_;
    for (const auto &[key, spec] : schema())
        if (!out.contains(key)) out[key] = spec.default_value;
    out["updated_at"] = updated_at_.empty() ? nlohmann::json(nullptr) : nlohmann::json(updated_at_);
    return out;
}

nlohmann::json settings_store::get() const {
    std::lock_guard lock(mutex_);
    return with_defaults();
}

std::optional<field_error> settings_store::update(nlohmann::json partial, nlohmann::json &merged,
                                                std::string &write_error) {
    partial.erase("updated_at"); // the host's own stamp: a client echoing it back is fine
    if (auto error = validate_object(partial, schema(), false)) return error;
    std::lock_guard lock(mutex_);
    nlohmann::json next = values_;
    for (const auto &[key, value] : partial.items())
        if (!value.is_null()) next[key] = value;
    char stamp[32];
    const std::time_t now = std::time(nullptr);
    std::tm utc{};
    gmtime_r(&now, &utc);
    std::strftime(stamp, sizeof stamp, "%Y-%m-%dT%H:%M:%SZ", &utc);
    nlohmann::json file = next;
    file["updated_at"] = stamp;
    write_error = write_file_atomically(file_, file.dump(2) + "\n");
    if (write_error.empty()) {
        values_ = next;
        updated_at_ = stamp;
    }
    merged = with_defaults();
    return std::nullopt;
}

std::string write_file_atomically(const fs::path &file, const std::string &text) {
    std::error_code ec;
    if (file.has_parent_path()) fs::create_directories(file.parent_path(), ec);
    const fs::path temp = file.string() + ".tmp-" + std::to_string(::getpid());
    const int fd = ::open(temp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return temp.string() + ": " + std::strerror(errno);
    const bool ok = write_all(fd, text) && ::fsync(fd) == 0;
    const int saved = errno;
    ::close(fd);
    if (!ok) {
        fs::remove(temp, ec);
        return temp.string() + ": " + std::strerror(saved);
    }
    if (::rename(temp.c_str(), file.c_str()) != 0) {
        const std::string error = file.string() + ": " + std::strerror(errno);
        fs::remove(temp, ec);
        return error;
    }
    // The rename itself is durable only once the folder's entry is on disk.
    const fs::path folder = file.has_parent_path() ? file.parent_path() : fs::path(".");
    const int dir_fd = ::open(folder.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir_fd >= 0) {
        ::fsync(dir_fd);
        ::close(dir_fd);
    }
    return "";
}

} // namespace omnihost
