#include "prometheus_text_parser.h"

#include <cmath>
#include <cstdlib>
#include <set>
#include <sstream>
#include <stdexcept>

namespace omnihost_test {
namespace {

// [a-zA-Z_:][a-zA-Z0-9_:]* for metric names; label names the same without ':'.
bool valid_name(const std::string &name, bool colon_allowed) {
    if (name.empty()) return false;
    for (size_t i = 0; i < name.size(); ++i) {
        const char c = name[i];
        const bool letter = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon_allowed && c == ':');
        if (!letter && !(i > 0 && c >= '0' && c <= '9')) return false;
    }
    return true;
}

[[noreturn]] void fail(size_t line_no, const std::string &line, const std::string &why) {
    throw std::runtime_error("line " + std::to_string(line_no) + ": " + why + ": " + line.substr(0, 200));
}

double parse_value(const std::string &text, bool &ok) {
    ok = true;
    if (text == "+Inf" || text == "Inf") return INFINITY;
    if (text == "-Inf") return -INFINITY;
    if (text == "NaN") return NAN;
    if (text.empty()) {
        ok = false;
        return 0;
    }
    char *end = nullptr;
    const double v = std::strtod(text.c_str(), &end);
    ok = end && *end == '\0' && text.find_first_not_of("0123456789+-.eE") == std::string::npos;
    return v;
}

// Parses `name{a="b",...} value [timestamp]`.
prom_sample parse_sample(const std::string &line, size_t line_no) {
    prom_sample s;
    size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    if (!valid_name(s.name, true)) fail(line_no, line, "bad metric name");
    if (i < line.size() && line[i] == '{') {
        ++i;
        while (true) {
            if (i >= line.size()) fail(line_no, line, "unterminated label set");
            if (line[i] == '}') {
                ++i;
                break;
            }
            size_t eq = line.find('=', i);
            if (eq == std::string::npos) fail(line_no, line, "label without '='");
            const std::string key = line.substr(i, eq - i);
            if (!valid_name(key, false)) fail(line_no, line, "bad label name '" + key + "'");
            if (key.rfind("__", 0) == 0) fail(line_no, line, "reserved label name");
            i = eq + 1;
            if (i >= line.size() || line[i] != '"') fail(line_no, line, "label value not quoted");
            ++i;
            std::string value;
            while (true) {
                if (i >= line.size()) fail(line_no, line, "unterminated label value");
                const char c = line[i++];
                if (c == '"') break;
                if (c == '\\') {
                    if (i >= line.size()) fail(line_no, line, "dangling escape");
                    const char e = line[i++];
                    if (e == '\\') value += '\\';
                    else if (e == '"') value += '"';
                    else if (e == 'n') value += '\n';
                    else fail(line_no, line, "bad escape");
                } else if (c == '\n') {
                    fail(line_no, line, "raw newline in label value");
                } else {
                    value += c;
                }
            }
            if (s.labels.count(key)) fail(line_no, line, "duplicate label " + key);
            s.labels[key] = value;
            if (i < line.size() && line[i] == ',') ++i;
            else if (i < line.size() && line[i] != '}') fail(line_no, line, "expected ',' or '}'");
        }
    }
    if (i >= line.size() || line[i] != ' ') fail(line_no, line, "missing value");
    std::istringstream rest(line.substr(i + 1));
    std::string value_text, timestamp, extra;
    rest >> value_text >> timestamp >> extra;
    if (!extra.empty()) fail(line_no, line, "trailing text");
    bool ok = false;
    s.value = parse_value(value_text, ok);
    if (!ok) fail(line_no, line, "bad value '" + value_text + "'");
    if (!timestamp.empty() && timestamp.find_first_not_of("-0123456789") != std::string::npos)
        fail(line_no, line, "bad timestamp");
    return s;
}

std::string series_key(const prom_sample &s, bool without_le = false) {
    std::string key = without_le ? "" : s.name;
    for (const auto &[k, v] : s.labels)
        if (!(without_le && k == "le")) key += "|" + k + "=" + v;
    return key;
}

std::string family_of(const std::string &sample_name, const std::map<std::string, prom_family> &families) {
    if (families.count(sample_name)) return sample_name;
    for (const char *suffix : {"_bucket", "_sum", "_count"}) {
        const std::string sfx = suffix;
        if (sample_name.size() > sfx.size() && sample_name.compare(sample_name.size() - sfx.size(), sfx.size(), sfx) == 0) {
            const std::string base = sample_name.substr(0, sample_name.size() - sfx.size());
            auto it = families.find(base);
            if (it != families.end() && (it->second.type == "histogram" || it->second.type == "summary")) return base;
        }
    }
    return "";
}

void check_histogram(const prom_family &f) {
    struct histogram_series {
        std::vector<std::pair<double, double>> buckets; // (le, count) in order
        bool has_sum = false, has_count = false;
        double count = 0;
    };
    std::map<std::string, histogram_series> series;
    for (const auto &s : f.samples) {
        histogram_series &one = series[series_key(s, true)];
        if (s.name == f.name + "_bucket") {
            auto le = s.labels.find("le");
            if (le == s.labels.end()) throw std::runtime_error(f.name + ": bucket without le");
            bool ok = false;
            const double bound = parse_value(le->second, ok);
            if (!ok) throw std::runtime_error(f.name + ": bad le " + le->second);
            if (!one.buckets.empty()) {
                if (!(bound > one.buckets.back().first)) throw std::runtime_error(f.name + ": le not ascending");
                if (s.value < one.buckets.back().second) throw std::runtime_error(f.name + ": bucket counts decrease");
            }
            one.buckets.push_back({bound, s.value});
        } else if (s.name == f.name + "_sum") {
            one.has_sum = true;
        } else if (s.name == f.name + "_count") {
            one.has_count = true;
            one.count = s.value;
        } else {
            throw std::runtime_error(f.name + ": unexpected sample " + s.name + " in a histogram");
        }
    }
    for (const auto &[key, one] : series) {
        if (one.buckets.empty() || !std::isinf(one.buckets.back().first))
            throw std::runtime_error(f.name + key + ": no +Inf bucket");
        if (!one.has_sum || !one.has_count) throw std::runtime_error(f.name + key + ": _sum or _count missing");
        if (one.buckets.back().second != one.count) throw std::runtime_error(f.name + key + ": +Inf bucket != _count");
    }
}

} // namespace

prom_exposition parse_prometheus_text(const std::string &text) {
    prom_exposition out;
    std::set<std::string> series_seen, closed_families;
    std::string current_family;
    std::istringstream in(text);
    std::string line;
    size_t line_no = 0;
    if (!text.empty() && text.back() != '\n') throw std::runtime_error("the exposition must end with a newline");
    while (std::getline(in, line)) {
        ++line_no;
        if (line.empty()) continue;
        if (line[0] == '#') {
            std::istringstream words(line);
            std::string hash, kind, name;
            words >> hash >> kind >> name;
            if (hash != "#" || (kind != "HELP" && kind != "TYPE")) continue; // a plain comment
            if (!valid_name(name, true)) fail(line_no, line, "bad metric name");
            if (name != current_family) {
                if (closed_families.count(name)) fail(line_no, line, "family " + name + " appears twice (interleaved)");
                if (!current_family.empty()) closed_families.insert(current_family);
                current_family = name;
            }
            prom_family &f = out.families[name];
            f.name = name;
            std::string rest;
            std::getline(words, rest);
            if (!rest.empty() && rest[0] == ' ') rest.erase(0, 1);
            if (kind == "TYPE") {
                if (!f.type.empty()) fail(line_no, line, "second TYPE");
                if (!f.samples.empty()) fail(line_no, line, "TYPE after samples");
                static const std::set<std::string> types = {"counter", "gauge", "histogram", "summary", "untyped"};
                if (!types.count(rest)) fail(line_no, line, "unknown type");
                f.type = rest;
            } else {
                if (!f.help.empty()) fail(line_no, line, "second HELP");
                f.help = rest;
            }
            continue;
        }
        prom_sample s = parse_sample(line, line_no);
        std::string family = family_of(s.name, out.families);
        if (family.empty()) {
            // An undeclared family is untyped; it still may not interleave.
            family = s.name;
            out.families[family].name = family;
            out.families[family].type = "untyped";
        }
        if (family != current_family) {
            if (closed_families.count(family)) fail(line_no, line, "samples of " + family + " are not contiguous");
            if (!current_family.empty()) closed_families.insert(current_family);
            current_family = family;
        }
        prom_family &f = out.families[family];
        if (f.type == "counter" && !(s.value >= 0)) fail(line_no, line, "negative or NaN counter");
        if (f.type == "histogram" && s.name == family) fail(line_no, line, "bare sample in a histogram");
        if (!series_seen.insert(series_key(s)).second) fail(line_no, line, "duplicate series");
        f.samples.push_back(std::move(s));
    }
    for (const auto &[name, f] : out.families)
        if (f.type == "histogram") check_histogram(f);
    return out;
}

std::vector<prom_sample> prom_exposition::find(const std::string &family,
                                             const std::map<std::string, std::string> &labels) const {
    std::vector<prom_sample> found;
    auto it = families.find(family);
    if (it == families.end()) return found;
    for (const auto &s : it->second.samples) {
        bool match = true;
        for (const auto &[k, v] : labels) {
            auto l = s.labels.find(k);
            if (l == s.labels.end() || l->second != v) match = false;
        }
        if (match) found.push_back(s);
    }
    return found;
}

double prom_exposition::value(const std::string &sample_name, const std::map<std::string, std::string> &labels) const {
    const prom_sample *hit = nullptr;
    for (const auto &[name, f] : families)
        for (const auto &s : f.samples) {
            if (s.name != sample_name || s.labels != labels) continue;
            if (hit) throw std::runtime_error("ambiguous series " + sample_name);
            hit = &s;
        }
    if (!hit) throw std::runtime_error("no series " + sample_name);
    return hit->value;
}

} // namespace omnihost_test
