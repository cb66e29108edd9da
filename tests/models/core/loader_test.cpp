#include "core/safetensors.h"
#include "temp_dir.h"

#include <torch/torch.h>

// doctest last: c10 (glog) defines its own CHECK macro.
#include <doctest/doctest.h>

namespace fs = std::filesystem;
using namespace omnihost::models;

namespace {

// A two-level module: names "proj.weight", "proj.bias", "inner.scale_shift_table", "inner.norm2.weight".
struct inner_impl : torch::nn::Module {
    torch::Tensor table, norm_w;
    inner_impl() {
        table = register_parameter("scale_shift_table", torch::zeros({1, 2, 3}));
        auto norm2 = register_module("norm2", std::make_shared<torch::nn::Module>());
        norm_w = norm2->register_parameter("weight", torch::zeros({3}));
    }
};
struct toy : torch::nn::Module {
    torch::nn::Linear proj{nullptr};
    std::shared_ptr<inner_impl> inner;
    toy() {
        proj = register_module("proj", torch::nn::Linear(3, 2));
        inner = register_module("inner", std::make_shared<inner_impl>());
    }
};

std::vector<std::pair<std::string, at::Tensor>> good_tensors() {
    return {{"proj.weight", torch::arange(6, torch::kFloat).reshape({2, 3})},
            {"proj.bias", torch::tensor({1.0f, 2.0f})},
            {"inner.scale_shift_table", torch::full({1, 2, 3}, 0.5f)},
            {"inner.norm2.weight", torch::full({3}, 2.0f)}};
}

std::string load_error(const fs::path &f) {
    toy m;
    try {
        load_module(m, tensor_store::open(f));
    } catch (const model_error &e) {
        return e.what();
    }
    return "<no error>";
}

}  // namespace

TEST_CASE("models.core: load_module copies every tensor by its dotted name") {
    temp_dir tmp;
    const fs::path f = tmp.path / "ok.safetensors";
    save_safetensors(f, good_tensors());
    toy m;
    load_module(m, tensor_store::open(f));
    CHECK(torch::equal(m.proj->weight, torch::arange(6, torch::kFloat).reshape({2, 3})));
    CHECK(torch::equal(m.proj->bias, torch::tensor({1.0f, 2.0f})));
    CHECK(m.inner->table.sum().item<float>() == 3.0f);
    CHECK(m.inner->norm_w.sum().item<float>() == 6.0f);
    CHECK_FALSE(m.proj->weight.requires_grad());
    // The module computes with the loaded weights.
    auto y = m.proj->forward(torch::ones({1, 3}));
    CHECK(y[0][0].item<float>() == 4.0f);  // 0+1+2 + bias 1
}

TEST_CASE("models.core: load_module converts dtype but keeps the fp32 modules") {
    temp_dir tmp;
    const fs::path f = tmp.path / "ok.safetensors";
    save_safetensors(f, good_tensors());
    toy m;
    load_options o;
    o.dtype = torch::kBFloat16;
    o.keep_fp32 = {"scale_shift_table", "norm2"};
    load_module(m, tensor_store::open(f), o);
    CHECK((m.proj->weight.scalar_type() == torch::kBFloat16));
    CHECK((m.inner->table.scalar_type() == torch::kFloat));
    CHECK((m.inner->norm_w.scalar_type() == torch::kFloat));
}

TEST_CASE("models.core: missing, unexpected and mis-shaped keys are errors naming the key") {
    temp_dir tmp;
    auto ts = good_tensors();

    auto missing = ts;
    missing.erase(missing.begin() + 1);  // proj.bias
    save_safetensors(tmp.path / "missing.safetensors", missing);
    auto e = load_error(tmp.path / "missing.safetensors");
    CHECK(e.find("missing key 'proj.bias'") != std::string::npos);
    CHECK(e.find("missing.safetensors") != std::string::npos);

    auto extra = ts;
    extra.emplace_back("blocks.0.attn.norm_added_q.weight", torch::ones({3}));
    save_safetensors(tmp.path / "extra.safetensors", extra);
    e = load_error(tmp.path / "extra.safetensors");
    CHECK(e.find("unexpected key 'blocks.0.attn.norm_added_q.weight'") != std::string::npos);
    // ...unless listed as ignorable (exact or prefix).
    {
        toy m;
        load_options o;
        o.ignore_unexpected = {"blocks.0."};
        CHECK_NOTHROW(load_module(m, tensor_store::open(tmp.path / "extra.safetensors"), o));
    }

    auto bad_shape = ts;
    bad_shape[0].second = torch::zeros({3, 2});
    save_safetensors(tmp.path / "shape.safetensors", bad_shape);
    e = load_error(tmp.path / "shape.safetensors");
    CHECK(e.find("shape mismatch for 'proj.weight'") != std::string::npos);
    CHECK(e.find("[3, 2]") != std::string::npos);
    CHECK(e.find("[2, 3]") != std::string::npos);
}
