// prometheus_text_parser.h — a strict parser of the Prometheus text exposition format 0.0.4 for
// tests: metric and label names, label value escapes, HELP/TYPE lines (once per family, before its
// samples, families not interleaved), sample values, no duplicate series, counters >= 0, and for
// histograms: buckets with ascending "le", non-decreasing counts, a +Inf bucket equal to _count,
// and _sum. parse() throws std::runtime_error naming the line on the first violation.
#pragma once

#include <map>
#include <string>
#include <vector>

namespace omnihost_test {

struct prom_sample {
    std::string name;                          // as written (histograms: x_bucket, x_sum, x_count)
    std::map<std::string, std::string> labels; // unescaped values
    double value = 0;
};

struct prom_family {
    std::string name;
    std::string type; // counter, gauge, histogram, summary, untyped
    std::string help;
    std::vector<prom_sample> samples;
};

struct prom_exposition {
    std::map<std::string, prom_family> families;
    // Samples of `family` (any suffix) whose labels include all of `labels`.
    std::vector<prom_sample> find(const std::string &family, const std::map<std::string, std::string> &labels = {}) const;
    // The single value of a series; throws when absent or ambiguous.
    double value(const std::string &sample_name, const std::map<std::string, std::string> &labels = {}) const;
};

prom_exposition parse_prometheus_text(const std::string &text);

} // namespace omnihost_test
