// The log bus: one ordered stream of log and progress frames for every WebSocket subscriber.
//
// Producers (the spdlog sink, plugin log callbacks, lifecycle lines, subprocess/container output,
// per-job progress) call publish_*(). Each frame gets the next sequence number, is serialised to
// JSON once, kept in a bounded ring buffer (the backlog a late joiner receives first) and pushed to
// every subscriber's bounded queue.
//
// Producers never wait for consumers: a subscriber whose queue is full loses the new frames and the
// loss is counted; the subscriber then receives {"type":"dropped","count":N} before the next frame
// it does get. All locks are held only for in-memory pushes, never across I/O, so there is no
// deadlock between a slow socket and a producer.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace spdlog::sinks { class sink; }

namespace omnihost::log_bus {

enum class log_level { trace, debug, info, warn, error, critical };

// "trace", "debug", "info", "warn", "error", "critical".
const char *log_level_name(log_level level);

// The frame as the bus keeps it: already serialised (one JSON object, the WebSocket text frame)
// plus the fields tests and in-process readers want without parsing.
struct frame {
    uint64_t seq = 0;
    bool is_progress = false;
    std::string json;  // {"type":"log"|"progress","seq":N,"time":"...Z",...}
};
using frame_ptr = std::shared_ptr<const frame>;

// ISO-8601 UTC with milliseconds, e.g. "2026-11-28T01:02:03.456Z".
std::string format_time_utc(std::chrono::system_clock::time_point tp);

struct bus_options {
    size_t backlog_capacity = 2000;       // frames kept for late joiners (ring buffer)
    size_t subscriber_queue_capacity = 4096;  // live frames buffered per subscriber before dropping
    log_level min_level = log_level::trace;   // direct publishes below this are ignored
};

class bus;
namespace detail { struct bus_core; struct subscriber_state; }

// What a subscriber receives next: a frame, or a note that `dropped` frames were lost.
struct delivery {
    frame_ptr item;        // null when this is a drop note
    uint64_t dropped = 0;  // > 0 for a drop note
    std::string drop_text;  // {"type":"dropped","count":N} for a drop note
    // The WebSocket text to send: item->json, or drop_text for a drop note.
    const std::string &text() const { return item ? item->json : drop_text; }
};

// One client's view of the bus. Created by bus::subscribe(); unsubscribes on destruction.
// Thread: one consumer thread calls next(); any thread may call close().
class subscriber {
public:
    ~subscriber();
    subscriber(const subscriber &) = delete;
    subscriber &operator=(const subscriber &) = delete;

    // The backlog first (frames that existed at subscribe time, oldest first), then live frames,
    // with drop notes where frames were lost. Waits up to `timeout` for something to arrive.
    // Returns nullopt on timeout or once the subscriber is closed and drained (see closed()).
    std::optional<delivery> next(std::chrono::milliseconds timeout);

    // Like next(), but appends up to `max_items` ready deliveries to `out` under one lock (what
    // the WebSocket handler uses). Returns how many were appended; 0 on timeout or when closed.
    size_t next_batch(std::vector<delivery> &out, size_t max_items, std::chrono::milliseconds timeout);

    // Stop receiving: wakes a waiting next(). Idempotent.
    void close();
    bool closed() const;

    uint64_t dropped_total() const;  // frames this subscriber lost so far
    size_t queued() const;           // frames waiting (backlog not yet read + live queue)

private:
    friend class bus;
    subscriber(std::shared_ptr<detail::subscriber_state> st, std::weak_ptr<detail::bus_core> core);
    std::shared_ptr<detail::subscriber_state> state_;
    std::weak_ptr<detail::bus_core> core_;  // detaches from the bus on destruction if still alive
};

struct bus_stats {
    uint64_t published = 0;       // frames ever published (== last seq)
    size_t backlog = 0;           // frames in the ring buffer now
    size_t subscribers = 0;       // live subscribers
    uint64_t dropped_total = 0;   // frames dropped over all subscribers, ever
};

class bus {
public:
    explicit bus(bus_options options = {});
    ~bus();  // closes every subscriber
    bus(const bus &) = delete;
    bus &operator=(const bus &) = delete;

    // A log line. `source` names the emitter ("host", "video_diffusion", "vllm", ...).
    // Thread: any; never blocks on subscribers. Returns the seq given (0 if filtered out).
    uint64_t publish_log(log_level level, std::string_view source, std::string_view message);

    // Progress of a job (a load or a generation): step of total (0 = unknown), phase a short word
    // ("load", "denoise", ...), message optional text.
    uint64_t publish_progress(std::string_view job_id, int32_t step, int32_t total,
                              std::string_view phase, std::string_view message);

    // A structured event of another kind (e.g. "job": a job's state or progress changed).
    // `object_json` is one serialised JSON object; its members follow "type", "seq" and "time".
    uint64_t publish_event(std::string_view type, std::string_view object_json);

    // A lifecycle line of the runtime slot ("starting model X", "ready", "stopped"), source "host".
    uint64_t publish_lifecycle(std::string_view message, log_level level = log_level::info);

    // Output of a child process or container (source e.g. "vllm", "podman"). Trailing CR/LF are
    // stripped, a chunk holding several lines becomes several frames, empty lines are skipped.
    // stderr lines are published at info like stdout: vllm writes its normal log to stderr.
    void publish_process_output(std::string_view source, std::string_view text);

    // New subscriber. With `with_backlog`, it first receives every frame still in the ring buffer.
    // The snapshot and the registration happen atomically: no frame is missed or duplicated.
    std::unique_ptr<subscriber> subscribe(bool with_backlog = true);

    // Copy of the ring buffer, oldest first.
    std::vector<frame_ptr> backlog() const;

    // Close every subscriber (server shutdown): their next() returns nullopt once drained.
    void close_all_subscribers();

    // Frames published directly (not through the spdlog sink) are also written to this sink, e.g.
    // the console sink, so plugin and process lines show on the terminal too. May be null.
    void set_echo_sink(std::shared_ptr<spdlog::sinks::sink> sink);

    void set_min_level(log_level level);
    bus_stats stats() const;
    const bus_options &options() const { return options_; }

    // Used by the spdlog sink: a line that already went to the logger's other sinks (no echo),
    // stamped with the logger's own time.
    uint64_t publish_log_at(log_level level, std::string_view source, std::string_view message,
                            std::chrono::system_clock::time_point when, bool echo);

private:
    bus_options options_;
    std::shared_ptr<detail::bus_core> core_;
};

}  // namespace omnihost::log_bus

// C-ABI log callback for omnihost_host.log: set host.user_data to a bus* and host.log to this.
// Maps OMNIHOST_LOG_* to log_level (unknown values become info), tolerates NULL strings, never
// throws, never blocks. Lines also go to the echo sink.
extern "C" void omnihost_log_bus_plugin_log(void *user_data /* bus* */, int32_t level,
                                            const char *source, const char *message);

