// A streamed chat answer (text/event-stream) as the proxies read it: split into lines the way the
// HTTP client does ('\n', a trailing '\r' dropped), routed like the chat task (SSE fields to the
// sse_parser, anything else kept as a plain JSON body), each event parsed with the bounded parse
// and turned into chat pieces or an error text.
// Properties: nothing throws out of the event handling; the events together carry no more than
// the data lines' values (one event per blank line, the lines joined by '\n').
#include "fuzz_check.h"

#include "common/json_limits.h"
#include "media_parsers.h"
#include "sse.h"

#include <vector>

namespace {

using namespace omnihost::proxy;

void handle_json(const nlohmann::json &chunk) {
    if (chunk.is_object() && chunk.contains("error") && !chunk["error"].is_null()) {
        (void)upstream_error_text(chunk.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
        return;
    }
    for (const chat_piece &piece : parse_chat_pieces(chunk))
        FUZZ_CHECK(!piece.text.empty() || !piece.audio_b64.empty(), "an empty chat piece");
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view text = omnihost::fuzz::as_text(data, size);
    std::vector<std::string> events;
    size_t data_bytes = 0;  // bytes of "data:" line values seen so far (an upper bound on events)
    sse_parser parser([&](const std::string &event) {
        events.push_back(event);
        if (event == "[DONE]") return;
        handle_json(omnihost::parse_json_bounded_or_discarded(event));
    });
    std::string raw;
    auto on_line = [&](const std::string &line) {
        if (line.empty() || line.rfind("data:", 0) == 0 || line[0] == ':' || line.rfind("event:", 0) == 0 ||
            line.rfind("id:", 0) == 0) {
            if (line.rfind("data:", 0) == 0) data_bytes += line.size() - 5 + 1;
            parser.feed_line(line);
        } else {
            raw += line + "\n";
        }
    };
    std::string line;
    for (const char c : text) {
        if (c == '\n') {
            if (!line.empty() && line.back() == '\r') line.pop_back();
            on_line(line);
            line.clear();
        } else {
            line += c;
        }
    }
    if (!line.empty()) on_line(line);
    parser.finish();

    size_t total = 0;
    for (const std::string &event : events) total += event.size() + 1;
    FUZZ_CHECK(total <= data_bytes, "events hold more than the data lines carried");
    if (!raw.empty()) {
        const nlohmann::json whole = omnihost::parse_json_bounded_or_discarded(raw);
        if (!whole.is_discarded()) handle_json(whole);
        (void)upstream_error_text(raw);
    }
    return 0;
}
