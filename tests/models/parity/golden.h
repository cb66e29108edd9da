// Loading one golden case (NAME.safetensors + NAME.json under the golden root) for parity cases.
//   auto gc = golden_case::load(ctx, "wan21_cases/transformer_forward");
//   at::Tensor x = gc.tensor("hidden_states");
//   auto [atol, rtol] = gc.tolerance();            // from the json's "tolerance" {atol, rtol}
//   auto dir = golden_path(ctx, "wan21_tiny/transformer");
// Everything that is absent is a parity::failure naming the path (never a skip).
#pragma once

#include "parity.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <utility>

namespace omnihost::models { class tensor_store; }

namespace omnihost::parity {

// <golden>/<relative>, which must exist (file or folder).
std::filesystem::path golden_path(const context &ctx, const std::string &relative);

class golden_case {
public:
    static golden_case load(const context &ctx, const std::string &relative_name);

    bool has(const std::string &tensor) const;
    at::Tensor tensor(const std::string &name) const;  // failure naming the case when absent
    const nlohmann::json &info() const { return info_; }
    const std::string &name() const { return name_; }
    // {atol, rtol} from info()["tolerance"] (or info()["tolerance"][key]); a missing rtol is 0.
    std::pair<double, double> tolerance(const std::string &key = "") const;

    golden_case();
    ~golden_case();
    golden_case(golden_case &&) noexcept;
    golden_case &operator=(golden_case &&) noexcept;

private:
    std::string name_;
    nlohmann::json info_;
    std::unique_ptr<models::tensor_store> store_;
};

}  // namespace omnihost::parity
