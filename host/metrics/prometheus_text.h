// prometheus_text.h — writing the Prometheus text exposition format (version 0.0.4) by hand:
// HELP/TYPE lines, label escaping, sample values, and histograms with cumulative buckets,
// _sum and _count. No client library: the format is small and stable.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace omnihost::metrics {

using label_list = std::vector<std::pair<std::string, std::string>>;

// The Content-Type of a scrape answer.
inline constexpr const char *kTextContentType = "text/plain; version=0.0.4; charset=utf-8";

// Label values escape backslash, double quote and newline; HELP text escapes backslash and newline.
std::string escape_label_value(const std::string &value);
std::string escape_help(const std::string &text);

// A sample value: integers without a fraction, +Inf/-Inf/NaN spelled as the format wants.
std::string format_value(double value);

// Fixed bucket bounds and their counts (not cumulative; the writer accumulates).
struct histogram_data {
    std::vector<double> bounds;    // ascending upper bounds, +Inf implied
    std::vector<uint64_t> counts;  // bounds.size() + 1 (the last one is above every bound)
    double sum = 0;
    uint64_t count = 0;

    explicit histogram_data(std::vector<double> bucket_bounds = {});
    void observe(double value);
};

class text_writer {
public:
    // One HELP and one TYPE line per family, written before its first sample.
    void family(const std::string &name, const char *type, const std::string &help);
    void sample(const std::string &name, const label_list &labels, double value);
    void histogram(const std::string &name, const label_list &labels, const histogram_data &data);

    const std::string &text() const { return out_; }

private:
    std::string out_;
};

} // namespace omnihost::metrics
