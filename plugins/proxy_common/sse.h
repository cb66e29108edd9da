// Server-sent events: turns the lines of a text/event-stream body into events (the joined "data:"
// lines between blank lines). OpenAI-style streams put one JSON object per event and end with
// "data: [DONE]".
#pragma once

#include <functional>
#include <string>

namespace omnihost::proxy {

class SseParser {
public:
    using EventSink = std::function<void(const std::string& data)>;
    explicit SseParser(EventSink sink) : sink_(std::move(sink)) {}

    // Feed one line (no newline). Comments (":...") and other fields are ignored.
    void feed_line(const std::string& line);
    // Dispatch a pending event when the stream ends without a final blank line.
    void finish();

private:
    EventSink sink_;
    std::string data_;
    bool has_data_ = false;
};

}  // namespace omnihost::proxy
