// common/json_limits.h: parse_json_bounded accepts exactly the well-formed texts whose nesting is
// within the limit, never builds a deeper value, and its two forms agree. The reference for
// "well-formed" and "depth" is nlohmann's own SAX parser, which is iterative (safe at any depth).
#include "fuzz_check.h"

#include "common/json_limits.h"

#include <algorithm>
#include <vector>

namespace {

using nlohmann::json;

// Counts the deepest container nesting (top-level container = 1) without building anything.
struct depth_counter : nlohmann::json_sax<json> {
    int depth = 0, max_depth = 0;
    bool open() { max_depth = std::max(max_depth, ++depth); return true; }
    bool close() { --depth; return true; }
    bool null() override { return true; }
    bool boolean(bool) override { return true; }
    bool number_integer(number_integer_t) override { return true; }
    bool number_unsigned(number_unsigned_t) override { return true; }
    bool number_float(number_float_t, const string_t &) override { return true; }
    bool string(string_t &) override { return true; }
    bool binary(binary_t &) override { return true; }
    bool start_object(std::size_t) override { return open(); }
    bool key(string_t &) override { return true; }
    bool end_object() override { return close(); }
    bool start_array(std::size_t) override { return open(); }
    bool end_array() override { return close(); }
    bool parse_error(std::size_t, const std::string &, const nlohmann::detail::exception &) override {
        return false;
    }
};

// Depth of a built value, iteratively (the value is what is checked, so no recursion over it).
int value_depth(const json &root) {
    int deepest = 0;
    std::vector<std::pair<const json *, int>> stack{{&root, root.is_structured() ? 1 : 0}};
    while (!stack.empty()) {
        auto [v, d] = stack.back();
        stack.pop_back();
        deepest = std::max(deepest, d);
        if (v->is_structured())
            for (const auto &child : *v)
                if (child.is_structured()) stack.push_back({&child, d + 1});
    }
    return deepest;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string_view text = omnihost::fuzz::as_text(data, size);
    // A small depth limit as well as the default one, so the fuzzer reaches the edge cheaply.
    for (const int limit : {omnihost::json_default_max_depth, 3}) {
        omnihost::json_limits limits;
        limits.max_depth = limit;

        depth_counter counter;
        const bool well_formed = json::sax_parse(text.begin(), text.end(), &counter);
        const bool should_accept = well_formed && counter.max_depth <= limit;

        std::string why;
        const json value = omnihost::parse_json_bounded_or_discarded(text, limits, &why);
        bool threw_other = false;
        bool accepted = false;
        try {
            (void)omnihost::parse_json_bounded(text, limits);
            accepted = true;
        } catch (const json::parse_error &) {
        } catch (const omnihost::json_limit_error &) {
        } catch (...) {
            threw_other = true;
        }
        FUZZ_CHECK(!threw_other, "parse_json_bounded threw something other than parse_error/json_limit_error");
        FUZZ_CHECK(accepted == !value.is_discarded(), "the throwing and non-throwing forms disagree");
        FUZZ_CHECK(accepted == should_accept, "accepted a text it should refuse, or refused a valid one");
        FUZZ_CHECK(accepted || !why.empty(), "a refusal without a reason");
        if (!accepted) continue;
        FUZZ_CHECK(value_depth(value) <= limit, "built a value deeper than the limit");
        // What the host writes back out must read back, and write out the same again (compared as
        // text: a number too large for a double is written as null, which is not equal to inf).
        const std::string dumped = value.dump();
        FUZZ_CHECK(omnihost::parse_json_bounded(dumped, limits).dump() == dumped,
                   "dump() does not read back to the same text");
    }
    // The size rule comes before any parsing.
    if (size > 0) {
        omnihost::json_limits tight;
        tight.max_bytes = size - 1;
        std::string why;
        FUZZ_CHECK(omnihost::parse_json_bounded_or_discarded(text, tight, &why).is_discarded(),
                   "a text over max_bytes was accepted");
    }
    return 0;
}
