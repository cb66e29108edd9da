// RAII and error conversion around one plugin instance. Every call into the plugin is guarded:
// a C++ plugin that lets an exception escape (a contract breach) yields INTERNAL, not a host crash.
#include "plugin_instance.h"

#include <array>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <vector>

namespace omnihost::plugin_loader {

namespace detail {

struct instance_core {
    std::shared_ptr<plugin_library> library;  // keeps the .so loaded while the instance lives
    omnihost_host host{};                     // the plugin may keep &host until destroy()
    omnihost_instance *inst = nullptr;

    const omnihost_plugin_entry &entry() const { return library->entry(); }

    ~instance_core() {
        if (!inst) return;
        try {
            entry().destroy(inst);
        } catch (...) {
            // Nothing sensible to do; the instance is gone either way.
        }
    }
};

}  // namespace detail

namespace {

// Runs one plugin call; converts an escaping exception into INTERNAL with its text.
template <class Call>
omnihost_status guarded(Call &&call, std::string &escaped) {
    try {
        return call();
    } catch (const std::exception &e) {
        escaped = std::string("plugin threw an exception: ") + e.what();
    } catch (...) {
        escaped = "plugin threw a non-standard exception";
    }
    return OMNIHOST_INTERNAL;
}

// The reason buffer every fallible call gets. Its last byte is forced to NUL before reading, so a
// plugin that ignores error_cap's NUL rule still cannot make the host read past it.
struct error_buffer {
    std::array<char, 2048> text{};
    std::string str() {
        text.back() = '\0';
        return text.data();
    }
};

[[noreturn]] void raise(detail::instance_core &core, const char *call, omnihost_status status,
                        std::string detail) {
    std::string full = core.library->manifest().id + ": " + call + " failed (" + status_name(status) + ")";
    if (!detail.empty()) full += ": " + detail;
    throw loader_error::plugin_call(status, std::move(detail), std::move(full));
}

// After a non-OK status: the plugin's reason, or what escaped it.
[[noreturn]] void raise_from(detail::instance_core &core, const char *call, omnihost_status status,
                             const std::string &escaped, error_buffer &err) {
    std::string reason = escaped.empty() ? err.str() : escaped;
    if (reason.empty()) reason = "no reason given";
    raise(core, call, status, std::move(reason));
}

// The text-out rule: call with a buffer, and again with one of the reported length (plus the NUL)
// while the text did not fit; the text may grow between calls, so a few rounds are allowed.
template <class Call>
std::string read_text(detail::instance_core &core, const char *call, Call &&fn) {
    std::vector<char> buf(4096);
    for (int round = 0; round < 4; ++round) {
        error_buffer err;
        size_t len = SIZE_MAX;
        std::string escaped;
        omnihost_status st = guarded([&] { return fn(buf.data(), buf.size(), &len, err.text.data(), err.text.size()); },
                                     escaped);
        if (st != OMNIHOST_OK) raise_from(core, call, st, escaped, err);
        if (len == SIZE_MAX) raise(core, call, OMNIHOST_INTERNAL, "returned OK without setting out_len");
        if (len < buf.size()) {
            buf.back() = '\0';
            if (std::memchr(buf.data(), '\0', len + 1) != buf.data() + len)
                raise(core, call, OMNIHOST_INTERNAL, "out_len disagrees with the NUL-terminated text");
            return std::string(buf.data(), len);
        }
        if (len > (size_t{64} << 20)) raise(core, call, OMNIHOST_INTERNAL, "answer longer than 64 MiB");
        buf.assign(len + 1, '\0');
    }
    raise(core, call, OMNIHOST_INTERNAL, "the answer kept growing between calls");
}

void discard_log(void *, omnihost_log_level, const char *, const char *) {}

}  // namespace

const char *status_name(omnihost_status status) {
    switch (status) {
    case OMNIHOST_OK: return "OK";
    case OMNIHOST_INVALID_ARGUMENT: return "INVALID_ARGUMENT";
    case OMNIHOST_NOT_SUPPORTED: return "NOT_SUPPORTED";
    case OMNIHOST_OUT_OF_MEMORY: return "OUT_OF_MEMORY";
    case OMNIHOST_CANCELLED: return "CANCELLED";
    case OMNIHOST_UNAVAILABLE: return "UNAVAILABLE";
    case OMNIHOST_INTERNAL: return "INTERNAL";
    }
    static thread_local char buf[32];
    std::snprintf(buf, sizeof buf, "STATUS_%d", static_cast<int>(status));
    return buf;
}

// ---- result_handle ------------------------------------------------------------------------------

result_handle::result_handle(std::shared_ptr<detail::instance_core> core, omnihost_result *result)
    : core_(std::move(core)), result_(result) {}

result_handle::~result_handle() { reset(); }

result_handle::result_handle(result_handle &&other) noexcept
    : core_(std::move(other.core_)), result_(other.result_) {
    other.result_ = nullptr;
}

result_handle &result_handle::operator=(result_handle &&other) noexcept {
    if (this != &other) {
        reset();
        core_ = std::move(other.core_);
        result_ = other.result_;
        other.result_ = nullptr;
    }
    return *this;
}

void result_handle::reset() {
    if (result_ && core_) {
        try {
            core_->entry().release_result(core_->inst, result_);
        } catch (...) {
        }
    }
    result_ = nullptr;
    core_.reset();
}

const uint8_t *result_handle::data() const { return result_ ? result_->data : nullptr; }
uint64_t result_handle::size() const { return result_ ? result_->size : 0; }
std::string_view result_handle::mime_type() const {
    return result_ && result_->mime_type ? result_->mime_type : "";
}
std::string_view result_handle::metadata_json() const {
    return result_ && result_->metadata_json ? result_->metadata_json : "";
}

// ---- host_binding / job_binding ------------------------------------------------------------------

host_binding::host_binding(log_fn log) : log_(std::move(log)) {
    host_.struct_size = sizeof(omnihost_host);
    host_.user_data = this;
    host_.log = &host_binding::log_trampoline;
}

void host_binding::log_trampoline(void *user_data, omnihost_log_level level, const char *source,
                                  const char *message) {
    auto *self = static_cast<host_binding *>(user_data);
    if (!self || !self->log_) return;
    try {
        self->log_(level, source ? source : "", message ? message : "");
    } catch (...) {
        // Never throw into plugin code.
    }
}

job_binding::job_binding(std::string job_id, progress_fn progress, emit_fn emit)
    : id_(std::move(job_id)), progress_(std::move(progress)), emit_(std::move(emit)) {
    job_.struct_size = sizeof(omnihost_job);
    job_.job_id = id_.c_str();
    job_.user_data = this;
    job_.progress = &job_binding::progress_trampoline;
    job_.is_cancelled = &job_binding::cancelled_trampoline;
    job_.emit = &job_binding::emit_trampoline;
}

void job_binding::progress_trampoline(void *user_data, int32_t step, int32_t total, const char *phase,
                                      const char *message) {
    auto *self = static_cast<job_binding *>(user_data);
    if (!self || !self->progress_) return;
    try {
        self->progress_(step, total, phase ? phase : "", message ? message : "");
    } catch (...) {
    }
}

int32_t job_binding::cancelled_trampoline(void *user_data) {
    auto *self = static_cast<job_binding *>(user_data);
    return self && self->cancelled_.load(std::memory_order_relaxed) ? 1 : 0;
}

void job_binding::emit_trampoline(void *user_data, const char *event_json) {
    auto *self = static_cast<job_binding *>(user_data);
    if (!self || !self->emit_ || !event_json) return;
    try {
        self->emit_(event_json);
    } catch (...) {
    }
}

// ---- plugin_instance ----------------------------------------------------------------------------

plugin_instance plugin_instance::create(std::shared_ptr<plugin_library> library, const omnihost_host &host,
                                        std::string_view config_json) {
    auto core = std::make_shared<detail::instance_core>();
    core->library = std::move(library);
    core->host = host;
    core->host.struct_size = sizeof(omnihost_host);
    if (!core->host.log) core->host.log = &discard_log;  // the ABI promises a non-NULL log

    std::string config(config_json);
    error_buffer err;
    omnihost_instance *inst = nullptr;
    std::string escaped;
    omnihost_status st = guarded(
        [&] { return core->entry().create(&core->host, config.c_str(), &inst, err.text.data(), err.text.size()); },
        escaped);
    if (st != OMNIHOST_OK || !inst) {
        std::string reason = !escaped.empty() ? escaped : err.str();
        if (st == OMNIHOST_OK) {
            st = OMNIHOST_INTERNAL;
            reason = "create returned OK but no instance";
        } else if (inst) {
            // A failing create must leave *out NULL; if it did not, we cannot know whether to
            // destroy it, so it leaks rather than risking a double free.
            reason += " (and create left *out non-NULL)";
        }
        if (reason.empty()) reason = "create failed without a reason";
        raise(*core, "create", st, reason);
    }
    core->inst = inst;
    return plugin_instance(std::move(core));
}

plugin_instance::~plugin_instance() = default;  // the core destroys once its last result is gone

void plugin_instance::start(std::string_view start_json, const omnihost_job *job) {
    std::string json(start_json);
    std::string escaped;
    error_buffer err;
    omnihost_status st = guarded(
        [&] { return core_->entry().start(core_->inst, json.c_str(), job, err.text.data(), err.text.size()); }, escaped);
    if (st != OMNIHOST_OK) raise_from(*core_, "start", st, escaped, err);
}

result_handle plugin_instance::generate(std::string_view request_json, const omnihost_job *job) {
    std::string json(request_json);
    std::string escaped;
    omnihost_result *out = nullptr;
    error_buffer err;
    omnihost_status st = guarded(
        [&] {
            return core_->entry().generate(core_->inst, json.c_str(), job, &out, err.text.data(), err.text.size());
        },
        escaped);
    if (st != OMNIHOST_OK) {
        if (out) result_handle(core_, out).reset();  // the plugin should not have set it; give it back
        raise_from(*core_, "generate", st, escaped, err);
    }
    if (!out) raise(*core_, "generate", OMNIHOST_INTERNAL, "returned OK without a result");
    result_handle handle(core_, out);
    if (!OMNIHOST_HAS_MEMBER(out, metadata_json))
        raise(*core_, "generate", OMNIHOST_INTERNAL, "result struct_size does not cover the 1.0 members");
    if (!out->mime_type) raise(*core_, "generate", OMNIHOST_INTERNAL, "result has a NULL mime_type");
    if (!out->metadata_json) raise(*core_, "generate", OMNIHOST_INTERNAL, "result has NULL metadata_json");
    if (out->size > 0 && !out->data) raise(*core_, "generate", OMNIHOST_INTERNAL, "result has size > 0 but NULL data");
    return handle;
}

void plugin_instance::stop() {
    std::string escaped;
    error_buffer err;
    omnihost_status st =
        guarded([&] { return core_->entry().stop(core_->inst, err.text.data(), err.text.size()); }, escaped);
    if (st != OMNIHOST_OK) raise_from(*core_, "stop", st, escaped, err);
}

std::string plugin_instance::health() {
    detail::instance_core &core = *core_;
    return read_text(core, "health", [&](char *out, size_t cap, size_t *len, char *eb, size_t ec) {
        return core.entry().health(core.inst, out, cap, len, eb, ec);
    });
}

std::optional<std::string> plugin_instance::command_preview(std::string_view start_json) {
    if (!core_->entry().command_preview) return std::nullopt;
    std::string json(start_json);
    detail::instance_core &core = *core_;
    return read_text(core, "command_preview", [&](char *out, size_t cap, size_t *len, char *eb, size_t ec) {
        return core.entry().command_preview(core.inst, json.c_str(), out, cap, len, eb, ec);
    });
}

const plugin_library &plugin_instance::library() const { return *core_->library; }
const std::string &plugin_instance::id() const { return core_->library->manifest().id; }

}  // namespace omnihost::plugin_loader
