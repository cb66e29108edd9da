#include "demo_writer_io.h"

#include "core/safetensors.h"

#include <ATen/ATen.h>

#include <cmath>
#include <fstream>
#include <stdexcept>

namespace omnihost::tools::detail {

namespace fs = std::filesystem;

bool ends_with(const std::string &s, const std::string &suffix) {
    return s.size() >= suffix.size() && s.compare(s.size() - suffix.size(), suffix.size(), suffix) == 0;
}

at::Tensor random_tensor(const tensor_spec &spec, at::Generator &gen) {
    at::Tensor noise = at::randn(spec.shape, gen, at::TensorOptions().dtype(at::kFloat));
    const std::string &n = spec.name;
    const bool is_norm = ends_with(n, ".gamma") || n.find("norm") != std::string::npos;
    if (is_norm && !ends_with(n, ".bias")) return noise.mul_(0.1).add_(1.0);
    if (ends_with(n, ".bias")) return noise.mul_(0.02);
    if (ends_with(n, "scale_shift_table")) return noise.div_(std::sqrt(double(spec.shape.back())));
    if (n == "shared.weight") return noise;  // embedding rows ~ N(0, 1)
    if (ends_with(n, "relative_attention_bias.weight")) return noise.mul_(0.1);
    int64_t fan_in = 1;
    for (size_t i = 1; i < spec.shape.size(); ++i) fan_in *= spec.shape[i];
    return noise.div_(std::sqrt(double(fan_in)));
}

void write_text(const fs::path &file, const std::string &text) {
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out) throw std::runtime_error("cannot write " + file.string());
}

void write_json(const fs::path &file, const nlohmann::json &j) { write_text(file, j.dump(2) + "\n"); }

void write_weights(const fs::path &file, const std::vector<tensor_spec> &specs, at::Generator &gen,
                   const tensor_maker &make) {
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    tensors.reserve(specs.size());
    for (const auto &s : specs) tensors.emplace_back(s.name, make(s, gen));
    models::save_safetensors(file, tensors);
}

}  // namespace omnihost::tools::detail
