// Safetensors reading (mmap, zero-copy where possible) and strict loading of checkpoint tensors
// into torch::nn::Module trees whose parameter/buffer names equal the checkpoint keys 1:1.
//
// Kept light on includes on purpose: only <ATen/core/Tensor.h>-level types appear here, so the
// many files that include this header do not pay for <torch/torch.h>.
#pragma once

#include "core/model_error.h"

#include <ATen/core/Tensor.h>
#include <c10/core/Device.h>
#include <c10/core/ScalarType.h>

#include <filesystem>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace torch::nn { class Module; }

namespace omnihost::models {

// All tensors of one checkpoint: a single *.safetensors file, or a sharded set described by a
// *.safetensors.index.json, or a folder holding either. Files stay mmapped while any tensor from
// them is alive. Supported dtypes: F32, F16, BF16, F64, I64, I32, I16, I8, U8, BOOL.
class tensor_store {
public:
    // `path`: a .safetensors file, a .index.json file, or a directory containing exactly one of
    // "diffusion_pytorch_model.safetensors[.index.json]" / "model.safetensors[.index.json]" or a
    // single *.safetensors file. The files are untrusted: only regular files are opened, the
    // header is validated by parse_safetensors_header (core/safetensors_header.h) and shard names
    // from an index must be plain file names beside it.
    static tensor_store open(const std::filesystem::path &path);

    bool contains(const std::string &name) const;
    // The stored tensor (CPU, its stored dtype; zero-copy view over the mmap when aligned).
    at::Tensor get(const std::string &name) const;
    std::vector<std::string> names() const;  // sorted
    const std::filesystem::path &source() const;

    tensor_store();
    ~tensor_store();
    tensor_store(tensor_store &&) noexcept;
    tensor_store &operator=(tensor_store &&) noexcept;

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

struct load_options {
    c10::ScalarType dtype = c10::kFloat;  // floating tensors are converted to this
    c10::Device device = c10::kCPU;
    // Keys in the checkpoint that the module does not have are an error unless listed here
    // (exact names or prefixes ending in '.').
    std::vector<std::string> ignore_unexpected;
    // Floating tensors whose dotted name has a component equal to one of these stay float32
    // whatever `dtype` says (diffusers' _keep_in_fp32_modules, matched the same way).
    std::vector<std::string> keep_fp32;
};

// Copies every parameter and buffer of `module` (by its dotted name) from `store`.
// Throws model_error naming the first missing key, unexpected key, or shape mismatch.
void load_module(torch::nn::Module &module, const tensor_store &store, const load_options &opts = {});

// Writes tensors to a .safetensors file (used by tools/tests to make tiny models).
void save_safetensors(const std::filesystem::path &file,
                      const std::vector<std::pair<std::string, at::Tensor>> &tensors);

}  // namespace omnihost::models
