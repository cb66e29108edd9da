// Server-sent events: turns the lines of a text/event-stream body into events (the joined "data:"
// lines between blank lines). OpenAI-style streams put one JSON object per event and end with
// "data: [DONE]".
#pragma once

#include <cstddef>
#include <functional>
#include <string>

namespace omnihost::proxy {

class sse_parser {
public:
    using event_sink = std::function<void(const std::string& data)>;
    // Events whose joined data passes `max_event_bytes` are refused (std::length_error from
    // feed_line), so many data lines without a blank line cannot grow one event without end.
    static constexpr size_t kDefaultMaxEventBytes = size_t(256) << 20;
    explicit sse_parser(event_sink sink, size_t max_event_bytes = kDefaultMaxEventBytes)
        : sink_(std::move(sink)), max_event_bytes_(max_event_bytes) {}

    // Feed one line (no newline). Comments (":...") and other fields are ignored. Throws
    // std::length_error for an event over the limit (the pending event is dropped).
    void feed_line(const std::string& line);
    // Dispatch a pending event when the stream ends without a final blank line.
    void finish();

private:
    event_sink sink_;
    size_t max_event_bytes_;
    std::string data_;
    bool has_data_ = false;
};

}  // namespace omnihost::proxy
