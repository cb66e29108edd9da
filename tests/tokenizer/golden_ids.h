// Reads the integer tensors and the prompt lists of wan21_cases/tokenizer_ids without libtorch, so
// the tokenizer tests stay torch-free (one of them adds libtorch on purpose, see with_torch test).
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <vector>

namespace omnihost::test {

inline std::filesystem::path golden_dir() {
    if (const char *env = std::getenv("OMNIHOST_GOLDEN_DIR"); env != nullptr && env[0] != '\0') return env;
    return OMNIHOST_GOLDEN_DIR_DEFAULT;
}

inline std::string read_file(const std::filesystem::path &p) {
    std::ifstream in(p, std::ios::binary);
    if (!in) throw std::runtime_error("cannot open golden file " + p.string());
    std::ostringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

struct int_tensor {
    std::vector<int64_t> shape;
    std::vector<int64_t> values;
};

// I64 tensors only (what the tokenizer case stores).
inline std::map<std::string, int_tensor> read_i64_safetensors(const std::filesystem::path &p) {
    const std::string bytes = read_file(p);
    if (bytes.size() < 8) throw std::runtime_error("short safetensors file " + p.string());
    uint64_t header_len = 0;
    std::memcpy(&header_len, bytes.data(), 8);
    const auto header = nlohmann::json::parse(bytes.substr(8, header_len));
    const size_t data_begin = 8 + header_len;
    std::map<std::string, int_tensor> out;
    for (const auto &[name, info] : header.items()) {
        if (name == "__metadata__" || info.at("dtype") != "I64") continue;
        int_tensor t;
        t.shape = info.at("shape").get<std::vector<int64_t>>();
        const auto begin = info.at("data_offsets")[0].get<size_t>();
        const auto end = info.at("data_offsets")[1].get<size_t>();
        t.values.resize((end - begin) / 8);
        std::memcpy(t.values.data(), bytes.data() + data_begin + begin, end - begin);
        out.emplace(name, std::move(t));
    }
    return out;
}

}  // namespace omnihost::test
