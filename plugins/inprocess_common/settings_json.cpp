#include "settings_json.h"

#include "inprocess_error.h"

#include <common/json_limits.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <random>

namespace omnihost::inprocess {

using json = nlohmann::json;
namespace fs = std::filesystem;

json parse_object(const std::string &text, const char *what) {
    json j;
    try {
        j = omnihost::parse_json_bounded(text.empty() ? std::string_view("{}") : std::string_view(text));
    } catch (const json::exception &e) {
        throw invalid_field(what, std::string("not valid JSON (") + e.what() + ")");
    } catch (const omnihost::json_limit_error &e) {
        throw invalid_field(what, std::string("refused (") + e.what() + ")");
    }
    if (!j.is_object()) throw invalid_field(what, "must be a JSON object");
    return j;
}

const json *find(const json &j, const std::string &key) {
    auto it = j.find(key);
    if (it != j.end() && !it->is_null()) return &*it;
    auto d = j.find("defaults");
    if (d != j.end() && d->is_object()) {
        auto it2 = d->find(key);
        if (it2 != d->end() && !it2->is_null()) return &*it2;
    }
    return nullptr;
}

bool get_bool(const json &j, const std::string &key, bool fallback) {
    const json *v = find(j, key);
    if (!v) return fallback;
    if (!v->is_boolean()) throw invalid_field(key, "must be true or false");
    return v->get<bool>();
}

double get_number(const json &j, const std::string &key, double fallback) {
    const json *v = find(j, key);
    if (!v) return fallback;
    if (!v->is_number()) throw invalid_field(key, "must be a number");
    const double x = v->get<double>();
    if (!std::isfinite(x)) throw invalid_field(key, "must be a finite number");
    return x;
}

int64_t get_int(const json &j, const std::string &key, int64_t fallback) {
    const json *v = find(j, key);
    if (!v) return fallback;
    if (v->is_number_integer()) return v->get<int64_t>();
    if (v->is_number_float()) {
        const double x = v->get<double>();
        if (std::isfinite(x) && x == std::floor(x) && std::abs(x) < 9.007199254740992e15)
            return static_cast<int64_t>(x);
    }
    throw invalid_field(key, "must be an integer");
}

std::string get_string(const json &j, const std::string &key, const std::string &fallback) {
    const json *v = find(j, key);
    if (!v) return fallback;
    if (!v->is_string()) throw invalid_field(key, "must be a string");
    return v->get<std::string>();
}

uint64_t get_seed(const json &j, bool &was_random) {
    was_random = false;
    if (const json *seed = find(j, "seed")) {
        if (seed->is_number_unsigned()) return seed->get<uint64_t>();
        const int64_t s = get_int(j, "seed", 0);
        if (s < 0) throw invalid_field("seed", "must be >= 0");
        return static_cast<uint64_t>(s);
    }
    std::random_device rd;
    was_random = true;
    return ((uint64_t(rd()) << 32) | rd()) & ((uint64_t(1) << 53) - 1);
}

std::vector<fs::path> read_model_roots(const json &config) {
    std::vector<fs::path> out;
    auto add_roots = [&out](const std::string &list) {
        size_t start = 0;
        while (start <= list.size()) {
            const size_t colon = std::min(list.find(':', start), list.size());
            const std::string one = list.substr(start, colon - start);
            if (!one.empty()) out.push_back(fs::absolute(fs::path(one)).lexically_normal());
            start = colon + 1;
        }
    };
    if (const json *roots = find(config, "model_roots")) {
        if (roots->is_string()) {
            add_roots(roots->get<std::string>());
        } else if (roots->is_array()) {
            for (const auto &r : *roots) {
                if (!r.is_string() || r.get<std::string>().empty())
                    throw invalid_field("model_roots", "must be a list of folder paths (or one colon-separated string)");
                out.push_back(fs::absolute(fs::path(r.get<std::string>())).lexically_normal());
            }
        } else {
            throw invalid_field("model_roots", "must be a list of folder paths (or one colon-separated string)");
        }
    }
    if (const char *env = std::getenv("OMNIHOST_MODEL_ROOTS")) add_roots(env);
    return out;
}

}  // namespace omnihost::inprocess
