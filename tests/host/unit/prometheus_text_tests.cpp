// The /metrics text writer (host/metrics/prometheus_text.h) against the strict parser the
// integration tests use, and the parser against broken expositions (it must be able to fail).
#include <doctest/doctest.h>

#include <cmath>
#include <stdexcept>

#include "../integration/prometheus_text_parser.h"
#include "metrics/prometheus_text.h"

using namespace omnihost::metrics;
using omnihost_test::parse_prometheus_text;

TEST_SUITE("prometheus_text") {

TEST_CASE("written families parse back: escapes, values, histogram buckets") {
    text_writer w;
    w.family("x_total", "counter", "help with \\ backslash\nand newline");
    w.sample("x_total", {{"route", "/v1/videos/{id}"}, {"odd", "a\"b\\c\nd"}}, 3);
    w.family("x_seconds", "histogram", "a histogram");
    histogram_data h({0.1, 1, 10});
    for (double v : {0.05, 0.5, 0.5, 5.0, 50.0}) h.observe(v);
    w.histogram("x_seconds", {{"route", "r"}}, h);
    w.family("g", "gauge", "values");
    w.sample("g", {{"k", "inf"}}, INFINITY);
    w.sample("g", {{"k", "small"}}, 0.000125);
    w.sample("g", {{"k", "big"}}, 123456789012.0);
    const auto e = parse_prometheus_text(w.text());
    CHECK(e.families.at("x_total").help == "help with \\\\ backslash\\nand newline");
    CHECK(e.value("x_total", {{"route", "/v1/videos/{id}"}, {"odd", "a\"b\\c\nd"}}) == 3);
    CHECK(e.value("x_seconds_bucket", {{"route", "r"}, {"le", "0.1"}}) == 1);
    CHECK(e.value("x_seconds_bucket", {{"route", "r"}, {"le", "1"}}) == 3);
    CHECK(e.value("x_seconds_bucket", {{"route", "r"}, {"le", "10"}}) == 4);
    CHECK(e.value("x_seconds_bucket", {{"route", "r"}, {"le", "+Inf"}}) == 5);
    CHECK(e.value("x_seconds_count", {{"route", "r"}}) == 5);
    CHECK(e.value("x_seconds_sum", {{"route", "r"}}) == doctest::Approx(56.05));
    CHECK(std::isinf(e.value("g", {{"k", "inf"}})));
    CHECK(e.value("g", {{"k", "small"}}) == doctest::Approx(0.000125));
    CHECK(e.value("g", {{"k", "big"}}) == 123456789012.0);
}

TEST_CASE("the parser refuses broken expositions") {
    const char *broken[] = {
        "x 1",                                                          // no final newline
        "# TYPE x counter\nx -1\n",                                     // negative counter
        "# TYPE x gauge\nx{a=\"1\"} 1\nx{a=\"1\"} 2\n",                 // duplicate series
        "# TYPE x gauge\nx{a=\"\\q\"} 1\n",                             // bad escape
        "# TYPE x gauge\nx{a=1} 1\n",                                   // unquoted label value
        "# TYPE x gauge\nx{1a=\"1\"} 1\n",                              // bad label name
        "# TYPE x gauge\nx one\n",                                      // bad value
        "# TYPE x gauge\n# TYPE x gauge\nx 1\n",                        // second TYPE
        "# TYPE x gauge\nx 1\n# TYPE y gauge\ny 1\nx{a=\"2\"} 1\n",     // interleaved family
        "# TYPE x wobble\nx 1\n",                                       // unknown type
        "# TYPE h histogram\nh_bucket{le=\"1\"} 2\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",  // decreasing
        "# TYPE h histogram\nh_bucket{le=\"2\"} 1\nh_bucket{le=\"1\"} 1\nh_bucket{le=\"+Inf\"} 1\nh_sum 1\nh_count 1\n",
        "# TYPE h histogram\nh_bucket{le=\"1\"} 1\nh_sum 1\nh_count 1\n",                          // no +Inf
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 2\nh_sum 1\nh_count 1\n",                      // +Inf != count
        "# TYPE h histogram\nh_bucket{le=\"+Inf\"} 1\nh_count 1\n",                               // no _sum
        "# TYPE h histogram\nh 1\n",                                                               // bare sample
    };
    for (const char *text : broken) {
        CAPTURE(text);
        CHECK_THROWS_AS(parse_prometheus_text(text), std::runtime_error);
    }
    CHECK_NOTHROW(parse_prometheus_text("# a plain comment\n# HELP x ok\n# TYPE x counter\nx{a=\"1\"} 0 1700000000000\n\n"));
}

}
