// omnihost_plugin.hpp — header-only C++17 helpers for writing a plugin against omnihost_plugin.h.
//
// What every C++ plugin needs at its C edge and would otherwise copy:
//   status_error      the one exception type that carries an omnihost_status (plus invalid_field)
//   copy_text         snprintf-style copy into a caller buffer (the ABI's text-out rule)
//   write_error       the same for error_buf/error_cap
//   guard             runs a body, turns every exception into a status + reason in error_buf
//   result_holder     an omnihost_result that owns its bytes, MIME type and metadata
//   result_list       the results an instance handed out and not yet got back (any-thread safe)
//   job_cancelled / job_progress / job_emit   the job callbacks, each of which may be absent
// Nothing here is exported or has static state, so each plugin gets its own copy of every type.
#ifndef OMNIHOST_PLUGIN_HPP
#define OMNIHOST_PLUGIN_HPP

#include "omnihost_plugin.h"

#include <cstddef>
#include <cstdint>
#include <cstring>
#include <memory>
#include <mutex>
#include <new>
#include <stdexcept>
#include <string>
#include <string_view>
#include <type_traits>
#include <unordered_map>
#include <utility>
#include <vector>

namespace omnihost::sdk {

// Thrown anywhere inside a plugin; guard() turns it into its status and what() into the reason.
class status_error : public std::runtime_error {
public:
    status_error(omnihost_status status, const std::string &message)
        : std::runtime_error(message), status_(status) {}
    omnihost_status status() const noexcept { return status_; }

private:
    omnihost_status status_;
};

// A request/start/config field is wrong: INVALID_ARGUMENT, and the reason starts with the field.
inline status_error invalid_field(const std::string &field, const std::string &why) {
    return status_error(OMNIHOST_INVALID_ARGUMENT, field + ": " + why);
}

// snprintf-style: copies at most cap - 1 bytes of `text` and a NUL into buf (nothing when cap is
// 0) and returns text.size(), the length the caller needs (plus one for the NUL).
inline size_t copy_text(std::string_view text, char *buf, size_t cap) noexcept {
    if (buf && cap > 0) {
        const size_t n = text.size() < cap - 1 ? text.size() : cap - 1;
        if (n) std::memcpy(buf, text.data(), n);
        buf[n] = '\0';
    }
    return text.size();
}

// The text-out rule of health()/command_preview(): copy and report the full length.
inline void answer_text(std::string_view text, char *out, size_t out_cap, size_t *out_len) noexcept {
    const size_t n = copy_text(text, out, out_cap);
    if (out_len) *out_len = n;
}

inline void write_error(char *error_buf, size_t error_cap, std::string_view message) noexcept {
    copy_text(message, error_buf, error_cap);
}

// libtorch and the C library spell an allocation failure in several ways.
inline bool looks_like_oom(std::string_view m) noexcept {
    return m.find("out of memory") != std::string_view::npos ||
           m.find("can't allocate memory") != std::string_view::npos ||
           m.find("Cannot allocate memory") != std::string_view::npos ||
           m.find("bad_alloc") != std::string_view::npos;
}

// A translator for a plugin's own exception types: called inside a catch handler, it rethrows
// (`throw;`), catches the types it knows and returns their status, writing the reason into
// `message`; anything else it lets propagate to guard's standard handlers.
struct no_translation {
    omnihost_status operator()(std::string &) const { throw; }
};

// Runs `body` (returning void or omnihost_status). Every exception becomes a status: status_error
// its own, then `translate` (the plugin's types), then std::bad_alloc -> OUT_OF_MEMORY,
// std::exception -> INTERNAL (OUT_OF_MEMORY when the text says so), anything else -> INTERNAL.
// On a non-OK status the reason goes into error_buf. `message_out`, when given, receives it too
// (for logging). Never throws.
template <typename Body, typename Translate = no_translation>
omnihost_status guard(char *error_buf, size_t error_cap, Body &&body, Translate &&translate = {},
                      std::string *message_out = nullptr) noexcept {
    omnihost_status status = OMNIHOST_OK;
    std::string message;
    try {
        try {
            if constexpr (std::is_void_v<decltype(body())>) {
                body();
            } else {
                status = body();
                if (status != OMNIHOST_OK) message = "failed without a reason";
            }
        } catch (const status_error &e) {
            status = e.status();
            message = e.what();
        } catch (...) {
            status = translate(message);
        }
    } catch (const std::bad_alloc &) {
        status = OMNIHOST_OUT_OF_MEMORY;
        message = "out of memory";
    } catch (const std::exception &e) {
        status = looks_like_oom(e.what()) ? OMNIHOST_OUT_OF_MEMORY : OMNIHOST_INTERNAL;
        message = e.what();
    } catch (...) {
        status = OMNIHOST_INTERNAL;
        message = "unknown exception";
    }
    if (status == OMNIHOST_OK) return status;
    if (message.empty()) message = "failed without a reason";
    write_error(error_buf, error_cap, message);
    if (message_out) {
        try {
            *message_out = std::move(message);
        } catch (...) {
        }
    }
    return status;
}

// An omnihost_result that owns what it points to. `result` is the first member, so the pointer the
// host gets back is the holder's address.
struct result_holder {
    omnihost_result result{};
    std::vector<uint8_t> bytes;
    std::string mime_type;
    std::string metadata_json;

    result_holder(std::vector<uint8_t> data, std::string mime, std::string metadata)
        : bytes(std::move(data)), mime_type(std::move(mime)), metadata_json(std::move(metadata)) {
        if (metadata_json.empty()) metadata_json = "{}";
        result.struct_size = sizeof(omnihost_result);
        result.data = bytes.empty() ? nullptr : bytes.data();
        result.size = bytes.size();
        result.mime_type = mime_type.c_str();
        result.metadata_json = metadata_json.c_str();
    }
    result_holder(const result_holder &) = delete;
    result_holder &operator=(const result_holder &) = delete;
};

// The results an instance handed out and not yet got back. release() is [any-thread] in the ABI,
// so every member locks; an unknown or already released pointer is ignored.
class result_list {
public:
    omnihost_result *add(std::unique_ptr<result_holder> holder) {
        omnihost_result *r = &holder->result;
        std::lock_guard<std::mutex> lock(mutex_);
        held_.emplace(r, std::move(holder));
        return r;
    }
    omnihost_result *add(std::vector<uint8_t> data, std::string mime, std::string metadata) {
        return add(std::make_unique<result_holder>(std::move(data), std::move(mime), std::move(metadata)));
    }
    void release(omnihost_result *result) noexcept {
        std::unique_ptr<result_holder> gone;
        std::lock_guard<std::mutex> lock(mutex_);
        auto it = held_.find(result);
        if (it == held_.end()) return;
        gone = std::move(it->second);
        held_.erase(it);
    }
    void clear() noexcept {
        std::lock_guard<std::mutex> lock(mutex_);
        held_.clear();
    }
    size_t size() const {
        std::lock_guard<std::mutex> lock(mutex_);
        return held_.size();
    }

private:
    mutable std::mutex mutex_;
    std::unordered_map<const omnihost_result *, std::unique_ptr<result_holder>> held_;
};

// The job callbacks; `job` and each member may be NULL or undeclared.
inline bool job_cancelled(const omnihost_job *job) {
    return OMNIHOST_HAS_MEMBER(job, is_cancelled) && job->is_cancelled && job->is_cancelled(job->user_data) != 0;
}
inline void job_progress(const omnihost_job *job, int32_t step, int32_t total, const char *phase,
                         const std::string &message = {}) {
    if (OMNIHOST_HAS_MEMBER(job, progress) && job->progress)
        job->progress(job->user_data, step, total, phase, message.empty() ? nullptr : message.c_str());
}
inline bool job_can_emit(const omnihost_job *job) { return OMNIHOST_HAS_MEMBER(job, emit) && job->emit; }
inline void job_emit(const omnihost_job *job, const std::string &event_json) {
    if (job_can_emit(job)) job->emit(job->user_data, event_json.c_str());
}

// The host's log callback, or nothing when the host table lacks one.
inline void host_log(const omnihost_host *host, omnihost_log_level level, const char *source, const std::string &message) {
    if (OMNIHOST_HAS_MEMBER(host, log) && host->log) host->log(host->user_data, level, source, message.c_str());
}

}  // namespace omnihost::sdk

#endif  // OMNIHOST_PLUGIN_HPP
