#include "case_params.h"

#include "golden.h"

#include <cctype>
#include <fstream>

namespace omnihost::parity {
namespace {

std::string trim(const std::string &s) {
    size_t b = 0, e = s.size();
    while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
    return s.substr(b, e - b);
}

// One Python literal of a keyword argument: 'text', "text", True/False/None, a number, or a
// placeholder from `values`.
nlohmann::json literal(const std::string &raw, const std::string &text, const std::map<std::string, nlohmann::json> &values) {
    const std::string v = trim(raw);
    if (v.size() >= 2 && (v.front() == '\'' || v.front() == '"') && v.back() == v.front())
        return v.substr(1, v.size() - 2);
    if (v == "True") return true;
    if (v == "False") return false;
    if (v == "None") return nullptr;
    if (auto it = values.find(v); it != values.end()) return it->second;
    try {
        size_t used = 0;
        if (v.find_first_of(".eE") == std::string::npos) {
            const long long i = std::stoll(v, &used);
            if (used == v.size()) return i;
        } else {
            const double d = std::stod(v, &used);
            if (used == v.size()) return d;
        }
    } catch (const std::exception &) {
    }
    throw failure("cannot read the value '" + v + "' in \"" + text + "\"");
}

// Top-level comma split (commas inside quotes or brackets stay).
std::vector<std::string> split_args(const std::string &s) {
    std::vector<std::string> out;
    std::string cur;
    int depth = 0;
    char quote = 0;
    for (char c : s) {
        if (quote) {
            if (c == quote) quote = 0;
        } else if (c == '\'' || c == '"') {
            quote = c;
        } else if (c == '(' || c == '[' || c == '{') {
            ++depth;
        } else if (c == ')' || c == ']' || c == '}') {
            --depth;
        } else if (c == ',' && depth == 0) {
            out.push_back(cur);
            cur.clear();
            continue;
        }
        cur += c;
    }
    if (!trim(cur).empty()) out.push_back(cur);
    return out;
}

}  // namespace

std::optional<nlohmann::json> given(const nlohmann::json &info, const std::string &key) {
    if (!info.is_object() || !info.contains(key) || info[key].is_null()) return std::nullopt;
    return info[key];
}

std::string model_folder(const nlohmann::json &info) {
    const auto m = given(info, "model");
    if (!m || !m->is_string()) throw failure("case has no \"model\" string");
    const std::string s = trim(m->get<std::string>());
    return s.substr(0, s.find_first_of(" \t("));
}

nlohmann::json scheduler_config(const context &ctx, const nlohmann::json &info, const std::string &text,
                                const std::map<std::string, nlohmann::json> &values) {
    const std::string t = trim(text);
    const size_t open = t.find('(');
    const std::string head = trim(t.substr(0, open));
    if (head.find('/') != std::string::npos) {
        // A scheduler folder of a golden model.
        const auto file = golden_path(ctx, head) / "scheduler_config.json";
        std::ifstream in(file);
        nlohmann::json cfg;
        try {
            in >> cfg;
        } catch (const nlohmann::json::exception &e) {
            throw failure(file.string() + ": invalid JSON: " + e.what());
        }
        return cfg;
    }
    if (open == std::string::npos || head.empty()) throw failure("cannot read a scheduler from \"" + text + "\"");
    int depth = 0;
    size_t close = std::string::npos;
    for (size_t i = open; i < t.size(); ++i) {
        if (t[i] == '(') ++depth;
        else if (t[i] == ')' && --depth == 0) {
            close = i;
            break;
        }
    }
    if (close == std::string::npos) throw failure("unbalanced parentheses in \"" + text + "\"");
    nlohmann::json cfg = nlohmann::json::object();
    cfg["_class_name"] = head;
    for (const auto &arg : split_args(t.substr(open + 1, close - open - 1))) {
        const std::string a = trim(arg);
        if (a.rfind("**", 0) == 0) {
            const auto obj = given(info, a.substr(2));
            if (!obj || !obj->is_object()) throw failure("\"" + text + "\" expands '" + a + "' but the case has no such object");
            for (const auto &[k, v] : obj->items()) cfg[k] = v;
            continue;
        }
        const size_t eq = a.find('=');
        if (eq == std::string::npos) throw failure("positional argument '" + a + "' in \"" + text + "\"");
        cfg[trim(a.substr(0, eq))] = literal(a.substr(eq + 1), text, values);
    }
    return cfg;
}

}  // namespace omnihost::parity
