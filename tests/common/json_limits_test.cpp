#include "common/json_limits.h"

#include <doctest/doctest.h>

#include <string>

using omnihost::json_limits;
using omnihost::json_limit_error;
using omnihost::parse_json_bounded;
using omnihost::parse_json_bounded_or_discarded;

namespace {
std::string nested_arrays(int depth) { return std::string(depth, '[') + std::string(depth, ']'); }
std::string nested_objects(int depth) {
    std::string s;
    for (int i = 0; i < depth; ++i) s += "{\"a\":";
    s += "1";
    s += std::string(depth, '}');
    return s;
}
}  // namespace

TEST_SUITE("json_limits") {
    TEST_CASE("documents within the limits parse unchanged") {
        const auto j = parse_json_bounded(R"({"prompt":"fox","steps":4,"list":[1,[2,[3]]]})");
        CHECK(j["prompt"] == "fox");
        CHECK(j["list"][1][1][0] == 3);
    }

    TEST_CASE("exactly max_depth levels pass, one more is refused") {
        json_limits limits;
        limits.max_depth = 8;
        CHECK_NOTHROW(parse_json_bounded(nested_arrays(8), limits));
        CHECK_THROWS_AS(parse_json_bounded(nested_arrays(9), limits), json_limit_error);
        CHECK_NOTHROW(parse_json_bounded(nested_objects(8), limits));
        CHECK_THROWS_AS(parse_json_bounded(nested_objects(9), limits), json_limit_error);
    }

    TEST_CASE("the 200,000-level attack body is refused without touching the stack") {
        // An unclosed 1 MB run of '[' as the attack sent it, and a closed one.
        const std::string open_only(1 << 20, '[');
        CHECK_THROWS_AS(parse_json_bounded(open_only), json_limit_error);
        CHECK_THROWS_AS(parse_json_bounded(nested_arrays(200000)), json_limit_error);
    }

    TEST_CASE("the size limit is checked before parsing") {
        json_limits limits;
        limits.max_bytes = 16;
        CHECK_NOTHROW(parse_json_bounded(R"({"a":"0123456"})", limits));
        CHECK_THROWS_AS(parse_json_bounded(R"({"a":"01234567890"})", limits), json_limit_error);
    }

    TEST_CASE("malformed text is a parse error, not a limit error") {
        CHECK_THROWS_AS(parse_json_bounded("{\"a\":"), nlohmann::json::parse_error);
    }

    TEST_CASE("the non-throwing form reports why") {
        std::string why;
        const auto j = parse_json_bounded_or_discarded(nested_arrays(100), {}, &why);
        CHECK(j.is_discarded());
        CHECK(why.find("nesting") != std::string::npos);
        CHECK(parse_json_bounded_or_discarded("[1,2]").size() == 2);
    }
}
