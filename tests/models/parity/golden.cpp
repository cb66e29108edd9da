#include "golden.h"

#include "core/safetensors.h"

#include <fstream>

namespace fs = std::filesystem;

namespace omnihost::parity {

fs::path golden_path(const context &ctx, const std::string &relative) {
    if (!ctx.override_root.empty()) {
        const fs::path o = ctx.override_root / relative;
        if (fs::exists(o)) {
            ctx.overrides_used.push_back(relative);
            return o;
        }
    }
    fs::path p = ctx.golden / relative;
    if (!fs::exists(p)) throw failure("golden data missing: " + p.string());
    return p;
}

golden_case::golden_case() = default;
golden_case::~golden_case() = default;
golden_case::golden_case(golden_case &&) noexcept = default;
golden_case &golden_case::operator=(golden_case &&) noexcept = default;

golden_case golden_case::load(const context &ctx, const std::string &relative_name) {
    golden_case gc;
    gc.name_ = relative_name;
    const fs::path tensors = golden_path(ctx, relative_name + ".safetensors");
    const fs::path json = golden_path(ctx, relative_name + ".json");
    try {
        gc.store_ = std::make_unique<models::tensor_store>(models::tensor_store::open(tensors));
    } catch (const models::model_error &e) {
        throw failure(std::string("cannot read golden tensors: ") + e.what());
    }
    std::ifstream in(json);
    try {
        in >> gc.info_;
    } catch (const nlohmann::json::exception &e) {
        throw failure(json.string() + ": invalid JSON: " + e.what());
    }
    return gc;
}

bool golden_case::has(const std::string &t) const { return store_ && store_->contains(t); }

at::Tensor golden_case::tensor(const std::string &name) const {
    if (!has(name)) throw failure(name_ + ": golden tensor '" + name + "' missing");
    return store_->get(name);
}

std::pair<double, double> golden_case::tolerance(const std::string &key) const {
    const auto &tol = info_.contains("tolerance") ? info_["tolerance"] : nlohmann::json();
    const auto &t = key.empty() ? tol : (tol.is_object() && tol.contains(key) ? tol[key] : nlohmann::json());
    if (!t.is_object() || !t.contains("atol") || !t["atol"].is_number())
        throw failure(name_ + ".json: no numeric tolerance" + (key.empty() ? "" : " for '" + key + "'"));
    double rtol = t.contains("rtol") && t["rtol"].is_number() ? t["rtol"].get<double>() : 0.0;
    return {t["atol"].get<double>(), rtol};
}

}  // namespace omnihost::parity
