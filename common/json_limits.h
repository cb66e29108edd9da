// Bounded JSON parsing for every text that comes from outside the process: request bodies,
// recipes, manifests, plugin results, upstream answers, SSE events, checkpoint configs.
//
// Why: nlohmann::json's parser is iterative, but building, copying and comparing a value recurse
// once per nesting level, so a 1 MB body of '[' (hundreds of thousands of levels) overflows the
// stack of whichever thread touches the value. The depth is therefore refused *while parsing*,
// through the parser callback, before any deep value exists. The size check comes first so a huge
// text is refused without being scanned.
//
// Header-only (nlohmann_json only) so the host, the plugins and the model libraries share one rule.
#pragma once

#include <nlohmann/json.hpp>

#include <cstddef>
#include <stdexcept>
#include <string>
#include <string_view>

namespace omnihost {

// Defaults: deep enough for every legitimate document here (the deepest, a chat request with
// multimodal content parts, is under 10 levels), shallow enough that recursion is harmless.
inline constexpr int json_default_max_depth = 64;
inline constexpr std::size_t json_default_max_bytes = 64u << 20;

struct json_limits {
    int max_depth = json_default_max_depth;
    std::size_t max_bytes = json_default_max_bytes;
};

// Thrown for a text over the limits; what() says which limit and where.
class json_limit_error : public std::runtime_error {
public:
    using std::runtime_error::runtime_error;
};

// Parses `text` or throws nlohmann::json::parse_error (malformed) or json_limit_error (too deep,
// too large, or a number beyond a double's range such as 1e400). Never builds a value deeper than
// limits.max_depth.
inline nlohmann::json parse_json_bounded(std::string_view text, json_limits limits = {}) {
    if (text.size() > limits.max_bytes) {
        throw json_limit_error("JSON text of " + std::to_string(text.size()) +
                               " bytes exceeds the limit of " + std::to_string(limits.max_bytes));
    }
    const int max_depth = limits.max_depth;
    nlohmann::json::parser_callback_t guard =
        [max_depth](int depth, nlohmann::json::parse_event_t event, nlohmann::json &) {
            if ((event == nlohmann::json::parse_event_t::object_start ||
                 event == nlohmann::json::parse_event_t::array_start) &&
                depth >= max_depth) {
                throw json_limit_error("JSON nesting deeper than " + std::to_string(max_depth) +
                                       " levels");
            }
            return true;
        };
    try {
        return nlohmann::json::parse(text.begin(), text.end(), guard);
    } catch (const nlohmann::json::out_of_range &e) {
        // nlohmann reports an overflowing number as out_of_range (406), which callers that catch
        // parse_error would let escape; it is one more limit of this parse.
        throw json_limit_error(std::string("JSON number out of range: ") + e.what());
    }
}

// The non-throwing form: a discarded value (is_discarded()) for malformed or over-limit text,
// with the reason in *why when given.
inline nlohmann::json parse_json_bounded_or_discarded(std::string_view text,
                                                      json_limits limits = {},
                                                      std::string *why = nullptr) {
    try {
        return parse_json_bounded(text, limits);
    } catch (const std::exception &e) {
        if (why) *why = e.what();
        return nlohmann::json(nlohmann::json::value_t::discarded);
    }
}

}  // namespace omnihost
