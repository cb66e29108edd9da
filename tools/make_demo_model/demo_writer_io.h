// File helpers shared by the demo model writers (Wan and Stable Audio): seeded random tensors with
// plausible magnitudes, JSON/text files, safetensors weights. Internal to the tool's library.
#pragma once

#include "demo_model.h"

#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace omnihost::tools::detail {

bool ends_with(const std::string &s, const std::string &suffix);

// Plausible magnitudes so activations neither vanish nor explode through the random network:
// norm scales near 1, weights ~ 1/sqrt(fan_in), small biases.
at::Tensor random_tensor(const tensor_spec &spec, at::Generator &gen);

void write_text(const std::filesystem::path &file, const std::string &text);
void write_json(const std::filesystem::path &file, const nlohmann::json &j);

using tensor_maker = std::function<at::Tensor(const tensor_spec &, at::Generator &)>;
// Draws every tensor in `specs` order from `gen` (so a seed gives byte-identical files).
void write_weights(const std::filesystem::path &file, const std::vector<tensor_spec> &specs, at::Generator &gen,
                   const tensor_maker &make = random_tensor);

}  // namespace omnihost::tools::detail
