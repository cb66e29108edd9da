// Scaffolding the model unit tests share: a temporary folder, the message of the error a call
// throws, and a copy of a model folder whose checkpoint tensors were edited (for the strict-loading
// tests: a missing, unexpected or reshaped tensor must be named).
#pragma once

#include "core/safetensors.h"

#include <ATen/ATen.h>

#include <cstdlib>
#include <exception>
#include <filesystem>
#include <functional>
#include <stdexcept>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

namespace omnihost::models::test_support {

// A fresh folder under the system temporary folder, removed with its contents.
struct temp_dir {
    std::filesystem::path path;
    explicit temp_dir(const std::string &prefix = "omnihost-model-test") {
        std::string tmpl = (std::filesystem::temp_directory_path() / (prefix + "-XXXXXX")).string();
        if (!mkdtemp(tmpl.data())) throw std::runtime_error("mkdtemp failed for " + tmpl);
        path = tmpl;
    }
    ~temp_dir() {
        std::error_code ec;
        std::filesystem::remove_all(path, ec);
    }
    temp_dir(const temp_dir &) = delete;
    temp_dir &operator=(const temp_dir &) = delete;
};

// The message of the E that `fn` throws, "<no error>" when it returns. An exception of another type
// passes through, so a test that expects, say, std::invalid_argument fails on anything else.
template <class E = std::exception>
std::string error_of(const std::function<void()> &fn) {
    try {
        fn();
    } catch (const E &e) {
        return e.what();
    }
    return "<no error>";
}

using tensor_list = std::vector<std::pair<std::string, at::Tensor>>;

// A copy of the model folder `source` in `dir`: its config.json, and its checkpoint (saved as
// `checkpoint`, a .safetensors name) after `edit` changed the list of tensors.
inline std::filesystem::path edited_copy(const temp_dir &dir, const std::filesystem::path &source,
                                         const std::string &checkpoint,
                                         const std::function<void(tensor_list &)> &edit) {
    const tensor_store store = tensor_store::open(source);
    tensor_list tensors;
    for (const auto &name : store.names()) tensors.emplace_back(name, store.get(name).clone());
    edit(tensors);
    save_safetensors(dir.path / checkpoint, tensors);
    std::filesystem::copy_file(source / "config.json", dir.path / "config.json");
    return dir.path;
}

}  // namespace omnihost::models::test_support
