// Ring buffer, fan-out and per-subscriber queues of the log bus. See log_bus.h for the contract.
#include "log_bus.h"

#include <nlohmann/json.hpp>
#include <spdlog/details/log_msg.h>
#include <spdlog/sinks/sink.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <ctime>
#include <deque>

namespace omnihost::log_bus {

namespace detail {

// One entry of a subscriber's live queue: a frame, or (item null) a note that `dropped` were lost.
struct queued {
    frame_ptr item;
    uint64_t dropped = 0;
};

struct subscriber_state {
    explicit subscriber_state(size_t cap) : capacity(cap) {}
    mutable std::mutex mu;
    std::condition_variable cv;
    std::vector<frame_ptr> backlog;  // snapshot taken at subscribe time
    size_t backlog_pos = 0;
    std::deque<queued> queue;
    size_t capacity;
    size_t frames_in_queue = 0;  // drop notes do not count against the capacity
    uint64_t pending_drops = 0;  // lost frames not yet announced
    uint64_t dropped_total = 0;
    bool closed = false;
    bool waiting = false;  // the consumer sleeps on cv: only then is a wake-up (a syscall) needed

    // Called with the bus lock held; only takes this subscriber's lock briefly. Never waits.
    // Returns true when the frame was dropped.
    bool offer(const frame_ptr &f) {
        std::lock_guard<std::mutex> lock(mu);
        if (closed) return false;
        if (frames_in_queue >= capacity) {
            ++pending_drops;
            ++dropped_total;
            return true;
        }
        if (pending_drops > 0) {
            queue.push_back(queued{nullptr, pending_drops});
            pending_drops = 0;
        }
        queue.push_back(queued{f, 0});
        ++frames_in_queue;
        if (waiting) cv.notify_one();
        return false;
    }

    void close() {
        std::lock_guard<std::mutex> lock(mu);
        closed = true;
        cv.notify_all();
    }
};

struct bus_core {
    explicit bus_core(const bus_options &o) : options(o) {}
    const bus_options options;
    std::mutex mu;  // guards next_seq, ring, subs; held only for in-memory work
    uint64_t next_seq = 1;
    std::deque<frame_ptr> ring;
    std::vector<std::shared_ptr<subscriber_state>> subs;
    std::atomic<uint64_t> dropped_total{0};
    std::atomic<int> min_level{0};

    std::mutex echo_mu;
    std::shared_ptr<spdlog::sinks::sink> echo;

    void detach(const std::shared_ptr<subscriber_state> &st) {
        std::lock_guard<std::mutex> lock(mu);
        subs.erase(std::remove(subs.begin(), subs.end(), st), subs.end());
    }
};

}  // namespace detail

namespace {

// JSON string literal (with quotes). Invalid UTF-8 (common in child-process output) is replaced
// with U+FFFD instead of throwing.
std::string quote(std::string_view s) {
    return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

spdlog::level::level_enum to_spdlog(log_level level) {
    switch (level) {
    case log_level::trace: return spdlog::level::trace;
    case log_level::debug: return spdlog::level::debug;
    case log_level::info: return spdlog::level::info;
    case log_level::warn: return spdlog::level::warn;
    case log_level::error: return spdlog::level::err;
    case log_level::critical: return spdlog::level::critical;
    }
    return spdlog::level::info;
}

}  // namespace

const char *log_level_name(log_level level) {
    switch (level) {
    case log_level::trace: return "trace";
    case log_level::debug: return "debug";
    case log_level::info: return "info";
    case log_level::warn: return "warn";
    case log_level::error: return "error";
    case log_level::critical: return "critical";
    }
    return "info";
}

std::string format_time_utc(std::chrono::system_clock::time_point tp) {
    using namespace std::chrono;
    const auto ms_total = duration_cast<milliseconds>(tp.time_since_epoch()).count();
    std::time_t secs = static_cast<std::time_t>(ms_total / 1000);
    int ms = static_cast<int>(ms_total % 1000);
    if (ms < 0) {  // before 1970: keep the remainder positive
        ms += 1000;
        secs -= 1;
    }
    std::tm tm{};
    gmtime_r(&secs, &tm);
    char buf[96]; // room for any int in every field (-Wformat-truncation)
    std::snprintf(buf, sizeof buf, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                  tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms);
    return buf;
}

// ---- subscriber ---------------------------------------------------------------------------------

subscriber::subscriber(std::shared_ptr<detail::subscriber_state> st, std::weak_ptr<detail::bus_core> core)
    : state_(std::move(st)), core_(std::move(core)) {}

subscriber::~subscriber() {
    state_->close();
    if (auto core = core_.lock()) core->detach(state_);
}

namespace {

bool has_work(const detail::subscriber_state &st) {
    return st.backlog_pos < st.backlog.size() || !st.queue.empty() || st.pending_drops > 0;
}

// Takes the next item; the caller holds st.mu and has checked has_work().
delivery take_one(detail::subscriber_state &st) {
    delivery d;
    if (st.backlog_pos < st.backlog.size()) {
        d.item = std::move(st.backlog[st.backlog_pos++]);
        if (st.backlog_pos == st.backlog.size()) {
            st.backlog.clear();
            st.backlog.shrink_to_fit();
            st.backlog_pos = 0;
        }
        return d;
    }
    if (!st.queue.empty()) {
        detail::queued q = std::move(st.queue.front());
        st.queue.pop_front();
        if (q.item) {
            --st.frames_in_queue;
            d.item = std::move(q.item);
            return d;
        }
        d.dropped = q.dropped;
    } else {
        // Frames were lost and nothing newer fit yet: tell the client now rather than later.
        d.dropped = st.pending_drops;
        st.pending_drops = 0;
    }
    d.drop_text = "{\"type\":\"dropped\",\"count\":" + std::to_string(d.dropped) + "}";
    return d;
}

// Waits (up to timeout) until there is work or the subscriber is closed. Holds `lock` on return.
bool wait_for_work(detail::subscriber_state &st, std::unique_lock<std::mutex> &lock,
                   std::chrono::milliseconds timeout) {
    if (has_work(st)) return true;
    if (st.closed || timeout.count() <= 0) return false;
    st.waiting = true;
    st.cv.wait_for(lock, timeout, [&] { return has_work(st) || st.closed; });
    st.waiting = false;
    return has_work(st);
}

}  // namespace

std::optional<delivery> subscriber::next(std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(state_->mu);
    if (!wait_for_work(*state_, lock, timeout)) return std::nullopt;
    return take_one(*state_);
}

size_t subscriber::next_batch(std::vector<delivery> &out, size_t max_items, std::chrono::milliseconds timeout) {
    std::unique_lock<std::mutex> lock(state_->mu);
    if (!wait_for_work(*state_, lock, timeout)) return 0;
    size_t n = 0;
    while (n < max_items && has_work(*state_)) {
        out.push_back(take_one(*state_));
        ++n;
    }
    return n;
}

void subscriber::close() { state_->close(); }

bool subscriber::closed() const {
    std::lock_guard<std::mutex> lock(state_->mu);
    return state_->closed;
}

uint64_t subscriber::dropped_total() const {
    std::lock_guard<std::mutex> lock(state_->mu);
    return state_->dropped_total;
}

size_t subscriber::queued() const {
    std::lock_guard<std::mutex> lock(state_->mu);
    return (state_->backlog.size() - state_->backlog_pos) + state_->frames_in_queue;
}

// ---- bus ----------------------------------------------------------------------------------------

bus::bus(bus_options options) : options_(options), core_(std::make_shared<detail::bus_core>(options)) {
    if (options_.backlog_capacity == 0) options_.backlog_capacity = 1;
    if (options_.subscriber_queue_capacity == 0) options_.subscriber_queue_capacity = 1;
    core_->min_level.store(static_cast<int>(options_.min_level));
}

bus::~bus() { close_all_subscribers(); }

namespace {

// Assigns the seq and fans out. `type` is "log"/"progress", `tail` the members after "time".
uint64_t publish_frame(detail::bus_core &core, const bus_options &opts, const char *type,
                       bool is_progress, const std::string &time_quoted, const std::string &tail) {
    std::lock_guard<std::mutex> lock(core.mu);
    auto f = std::make_shared<frame>();
    f->seq = core.next_seq++;
    f->is_progress = is_progress;
    f->json.reserve(48 + time_quoted.size() + tail.size());
    f->json += "{\"type\":\"";
    f->json += type;
    f->json += "\",\"seq\":";
    f->json += std::to_string(f->seq);
    f->json += ",\"time\":";
    f->json += time_quoted;
    f->json += tail;
    f->json += '}';
    frame_ptr shared = std::move(f);
    core.ring.push_back(shared);
    while (core.ring.size() > opts.backlog_capacity) core.ring.pop_front();
    uint64_t drops = 0;
    for (auto &s : core.subs) drops += s->offer(shared) ? 1 : 0;
    if (drops) core.dropped_total.fetch_add(drops, std::memory_order_relaxed);
    return shared->seq;
}

}  // namespace

uint64_t bus::publish_log_at(log_level level, std::string_view source, std::string_view message,
                             std::chrono::system_clock::time_point when, bool echo) {
    if (static_cast<int>(level) < core_->min_level.load(std::memory_order_relaxed)) return 0;
    if (echo) {
        std::shared_ptr<spdlog::sinks::sink> sink;
        {
            std::lock_guard<std::mutex> lock(core_->echo_mu);
            sink = core_->echo;
        }
        if (sink) {
            try {
                spdlog::details::log_msg msg(when, spdlog::source_loc{},
                                             spdlog::string_view_t(source.data(), source.size()),
                                             to_spdlog(level),
                                             spdlog::string_view_t(message.data(), message.size()));
                if (sink->should_log(msg.level)) sink->log(msg);
            } catch (...) {
                // The terminal echo is best effort; the bus itself still gets the line.
            }
        }
    }
    std::string tail;
    tail.reserve(40 + source.size() + message.size());
    tail += ",\"level\":\"";
    tail += log_level_name(level);
    tail += "\",\"source\":";
    tail += quote(source);
    tail += ",\"message\":";
    tail += quote(message);
    return publish_frame(*core_, options_, "log", false, '"' + format_time_utc(when) + '"', tail);
}

uint64_t bus::publish_log(log_level level, std::string_view source, std::string_view message) {
    return publish_log_at(level, source, message, std::chrono::system_clock::now(), true);
}

uint64_t bus::publish_progress(std::string_view job_id, int32_t step, int32_t total,
                               std::string_view phase, std::string_view message) {
    std::string tail;
    tail += ",\"job_id\":";
    tail += quote(job_id);
    tail += ",\"step\":" + std::to_string(step);
    tail += ",\"total\":" + std::to_string(total);
    tail += ",\"phase\":";
    tail += quote(phase);
    tail += ",\"message\":";
    tail += quote(message);
    return publish_frame(*core_, options_, "progress", true,
                         '"' + format_time_utc(std::chrono::system_clock::now()) + '"', tail);
}

uint64_t bus::publish_event(std::string_view type, std::string_view object_json) {
    std::string tail;
    if (object_json.size() > 2 && object_json.front() == '{' && object_json.back() == '}') {
        tail += ',';
        tail.append(object_json.substr(1, object_json.size() - 2));
    }
    return publish_frame(*core_, options_, std::string(type).c_str(), false,
                         '"' + format_time_utc(std::chrono::system_clock::now()) + '"', tail);
}

uint64_t bus::publish_lifecycle(std::string_view message, log_level level) {
    return publish_log(level, "host", message);
}

void bus::publish_process_output(std::string_view source, std::string_view text) {
    size_t start = 0;
    while (start <= text.size()) {
        size_t end = text.find('\n', start);
        if (end == std::string_view::npos) end = text.size();
        std::string_view line = text.substr(start, end - start);
        while (!line.empty() && (line.back() == '\r' || line.back() == '\n')) line.remove_suffix(1);
        // tqdm redraws with bare CRs: keep only the last state of the line.
        size_t cr = line.rfind('\r');
        if (cr != std::string_view::npos) line.remove_prefix(cr + 1);
        if (!line.empty()) publish_log(log_level::info, source, line);
        if (end == text.size()) break;
        start = end + 1;
    }
}

std::unique_ptr<subscriber> bus::subscribe(bool with_backlog) {
    auto st = std::make_shared<detail::subscriber_state>(options_.subscriber_queue_capacity);
    {
        std::lock_guard<std::mutex> lock(core_->mu);
        if (with_backlog) st->backlog.assign(core_->ring.begin(), core_->ring.end());
        core_->subs.push_back(st);
    }
    return std::unique_ptr<subscriber>(new subscriber(st, core_));
}

std::vector<frame_ptr> bus::backlog() const {
    std::lock_guard<std::mutex> lock(core_->mu);
    return {core_->ring.begin(), core_->ring.end()};
}

void bus::close_all_subscribers() {
    std::vector<std::shared_ptr<detail::subscriber_state>> subs;
    {
        std::lock_guard<std::mutex> lock(core_->mu);
        subs.swap(core_->subs);
    }
    for (auto &s : subs) s->close();
}

void bus::set_echo_sink(std::shared_ptr<spdlog::sinks::sink> sink) {
    std::lock_guard<std::mutex> lock(core_->echo_mu);
    core_->echo = std::move(sink);
}

void bus::set_min_level(log_level level) { core_->min_level.store(static_cast<int>(level)); }

bus_stats bus::stats() const {
    std::lock_guard<std::mutex> lock(core_->mu);
    bus_stats s;
    s.published = core_->next_seq - 1;
    s.backlog = core_->ring.size();
    s.subscribers = core_->subs.size();
    s.dropped_total = core_->dropped_total.load();
    return s;
}

}  // namespace omnihost::log_bus

extern "C" void omnihost_log_bus_plugin_log(void *user_data, int32_t level, const char *source,
                                            const char *message) {
    if (!user_data) return;
    using omnihost::log_bus::log_level;
    log_level lv = log_level::info;
    switch (level) {
    case 0: lv = log_level::trace; break;  // OMNIHOST_LOG_TRACE
    case 1: lv = log_level::debug; break;
    case 2: lv = log_level::info; break;
    case 3: lv = log_level::warn; break;
    case 4: lv = log_level::error; break;
    default: lv = log_level::info; break;
    }
    try {
        static_cast<omnihost::log_bus::bus *>(user_data)->publish_log(lv, source ? source : "plugin", message ? message : "");
    } catch (...) {
        // A log callback must never throw into plugin code (it may be C).
    }
}
