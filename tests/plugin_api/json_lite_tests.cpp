// json_lite: the tiny C JSON reader shared by the test plugin and the conformance kit.
#include <json_lite.h>

#include <doctest/doctest.h>

#include <string>

TEST_SUITE("json_lite") {

TEST_CASE("validate accepts RFC 8259 values and rejects malformed ones") {
    for (const char *ok : {"{}", "[]", "0", "-0.5e+3", "\"a\\u00e9\\n\"", "true", "null", " { \"a\" : [1, {\"b\": null}] } ",
                           "{\"a\":\"\\ud83d\\ude00\"}"})
        CHECK_MESSAGE(omnihost_json_validate(ok, nullptr), ok);
    for (const char *bad : {"", "{", "{\"a\"}", "{\"a\":}", "[1,]", "01", "1.", "\"\\x\"", "{'a':1}", "tru", "{} x",
                            "\"raw\ncontrol\"", "[1 2]", "{\"a\":1,}"})
        CHECK_MESSAGE(!omnihost_json_validate(bad, nullptr), bad);
    size_t at = 0;
    CHECK_FALSE(omnihost_json_validate("{} x", &at));
    CHECK(at == 3);
    std::string deep(200, '[');
    deep += std::string(200, ']');
    CHECK_FALSE(omnihost_json_validate(deep.c_str(), nullptr));  // deeper than OMNIHOST_JSON_MAX_DEPTH
}

TEST_CASE("find looks only at the top level and skips nested values") {
    const char *doc = R"({"nested":{"task":"wrong"},"list":["task"],"task":"video","n":-42,"f":2.5,"b":true,"s":"x\"y"})";
    char buf[64];
    CHECK(omnihost_json_get_string(doc, "task", buf, sizeof buf));
    CHECK(std::string(buf) == "video");
    int64_t n = 0;
    CHECK(omnihost_json_get_int64(doc, "n", &n));
    CHECK(n == -42);
    CHECK_FALSE(omnihost_json_get_int64(doc, "f", &n));  // not an integer
    double d = 0;
    CHECK(omnihost_json_read_double(omnihost_json_find(doc, "f"), &d));
    CHECK(d == 2.5);
    int b = 0;
    CHECK(omnihost_json_get_bool(doc, "b", &b));
    CHECK(b == 1);
    CHECK(omnihost_json_get_string(doc, "s", buf, sizeof buf));
    CHECK(std::string(buf) == "x\"y");
    CHECK(omnihost_json_find(doc, "missing") == nullptr);
    CHECK_FALSE(omnihost_json_get_string(doc, "n", buf, sizeof buf));  // wrong type
    CHECK(omnihost_json_type(omnihost_json_find(doc, "nested")) == 'o');
    CHECK(omnihost_json_find("[1]", "a") == nullptr);
}

TEST_CASE("strings decode escapes and surrogate pairs; truncation is reported") {
    char buf[16];
    CHECK(omnihost_json_read_string(R"("caf\u00e9 \ud83d\ude00")", buf, sizeof buf));
    CHECK(std::string(buf) == "caf\xc3\xa9 \xf0\x9f\x98\x80");
    char small[4];
    CHECK_FALSE(omnihost_json_read_string(R"("abcdef")", small, sizeof small));
    CHECK(std::string(small) == "abc");
}

TEST_CASE("integers out of range fail instead of clamping") {
    int64_t v = 0;
    CHECK(omnihost_json_read_int64("9223372036854775807", &v));
    CHECK(v == INT64_MAX);
    CHECK_FALSE(omnihost_json_read_int64("9223372036854775808", &v));
}

TEST_CASE("array index") {
    const char *arr = R"([{"a":1}, "two", [3]])";
    CHECK(omnihost_json_type(omnihost_json_index(arr, 0)) == 'o');
    CHECK(omnihost_json_type(omnihost_json_index(arr, 1)) == 's');
    CHECK(omnihost_json_type(omnihost_json_index(arr, 2)) == 'a');
    CHECK(omnihost_json_index(arr, 3) == nullptr);
    CHECK(omnihost_json_index("[]", 0) == nullptr);
}

TEST_CASE("quote escapes and round-trips") {
    char buf[64];
    const char *in = "a\"b\\c\nd\x01";
    size_t n = omnihost_json_quote(in, buf, sizeof buf);
    CHECK(n == std::string(buf).size());
    CHECK(std::string(buf) == "\"a\\\"b\\\\c\\nd\\u0001\"");
    char back[64];
    CHECK(omnihost_json_read_string(buf, back, sizeof back));
    CHECK(std::string(back) == in);
    char tiny[4];
    CHECK(omnihost_json_quote("long", tiny, sizeof tiny) == 0);
    CHECK(std::string(tiny).empty());
}

}  // TEST_SUITE
