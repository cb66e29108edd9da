#include "metrics/prometheus_text.h"

#include <cmath>
#include <cstdio>

namespace omnihost::metrics {

std::string escape_label_value(const std::string &value) {
    std::string out;
    out.reserve(value.size());
    for (char c : value) {
        if (c == '\\') out += "\\\\";
        else if (c == '"') out += "\\\"";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

std::string escape_help(const std::string &text) {
    std::string out;
    for (char c : text) {
        if (c == '\\') out += "\\\\";
        else if (c == '\n') out += "\\n";
        else out += c;
    }
    return out;
}

std::string format_value(double value) {
    if (std::isnan(value)) return "NaN";
    if (std::isinf(value)) return value > 0 ? "+Inf" : "-Inf";
    if (value == std::floor(value) && std::fabs(value) < 1e15) {
        char buffer[32];
        std::snprintf(buffer, sizeof buffer, "%.0f", value);
        return buffer;
    }
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%.9g", value);
    return buffer;
}

histogram_data::histogram_data(std::vector<double> bucket_bounds)
    : bounds(std::move(bucket_bounds)), counts(bounds.size() + 1, 0) {}

void histogram_data::observe(double value) {
    size_t i = 0;
    while (i < bounds.size() && value > bounds[i]) ++i;
    ++counts[i];
    sum += value;
    ++count;
}

void text_writer::family(const std::string &name, const char *type, const std::string &help) {
    out_ += "# HELP " + name + " " + escape_help(help) + "\n";
    out_ += "# TYPE " + name + " " + type + "\n";
}

namespace {

std::string label_text(const label_list &labels, const std::string &extra_key = "", const std::string &extra_value = "") {
    if (labels.empty() && extra_key.empty()) return "";
    std::string out = "{";
    bool first = true;
    for (const auto &[key, value] : labels) {
        if (!first) out += ',';
        first = false;
        out += key + "=\"" + escape_label_value(value) + "\"";
    }
    if (!extra_key.empty()) {
        if (!first) out += ',';
        out += extra_key + "=\"" + escape_label_value(extra_value) + "\"";
    }
    return out + "}";
}

} // namespace

void text_writer::sample(const std::string &name, const label_list &labels, double value) {
    out_ += name + label_text(labels) + " " + format_value(value) + "\n";
}

void text_writer::histogram(const std::string &name, const label_list &labels, const histogram_data &data) {
    uint64_t cumulative = 0;
    for (size_t i = 0; i < data.bounds.size(); ++i) {
        cumulative += data.counts[i];
        out_ += name + "_bucket" + label_text(labels, "le", format_value(data.bounds[i])) + " " +
                std::to_string(cumulative) + "\n";
    }
    cumulative += data.counts.empty() ? 0 : data.counts.back();
    out_ += name + "_bucket" + label_text(labels, "le", "+Inf") + " " + std::to_string(cumulative) + "\n";
    out_ += name + "_sum" + label_text(labels) + " " + format_value(data.sum) + "\n";
    out_ += name + "_count" + label_text(labels) + " " + std::to_string(data.count) + "\n";
}

} // namespace omnihost::metrics
