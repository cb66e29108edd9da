// UMT5 text encoder unit tests: relative-position buckets, config parsing, strict loading (missing /
// unexpected / ignored keys, tied embedding name), trimming, dtypes and error messages.
// <torch/torch.h> defines a glog-style CHECK; include it first and drop it before doctest.
#include <torch/torch.h>
#undef CHECK

#include "core/safetensors.h"
#include "umt5/umt5_encoder.h"
#include "umt5/umt5_modules.h"

#include "spm_tokenizer.h"

#include <doctest/doctest.h>

#include <fstream>
#include <functional>
#include <set>

#include <unistd.h>

using namespace omnihost;
namespace fs = std::filesystem;

namespace {

fs::path golden() { return fs::path(OMNIHOST_GOLDEN_DIR); }
fs::path te_dir() { return golden() / "wan21_tiny" / "text_encoder"; }
fs::path tok_dir() { return golden() / "wan21_tiny" / "tokenizer"; }

std::string what_of(const std::function<void()> &fn) {
    try {
        fn();
    } catch (const std::exception &e) {
        return e.what();
    }
    return "<no exception>";
}

struct temp_dir {
    fs::path path;
    temp_dir() {
        static int counter = 0;
        path = fs::temp_directory_path() /
               ("omnihost_umt5_test_" + std::to_string(::getpid()) + "_" + std::to_string(counter++));
        fs::create_directories(path);
    }
    ~temp_dir() {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

// A copy of the golden text encoder whose tensors went through `edit` (name -> tensor list).
fs::path edited_copy(const temp_dir &tmp,
                     const std::function<void(std::vector<std::pair<std::string, at::Tensor>> &)> &edit) {
    const auto store = models::tensor_store::open(te_dir());
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    for (const auto &name : store.names()) tensors.emplace_back(name, store.get(name).clone());
    edit(tensors);
    models::save_safetensors(tmp.path / "model.safetensors", tensors);
    fs::copy_file(te_dir() / "config.json", tmp.path / "config.json");
    return tmp.path;
}

const std::vector<std::string> prompts = {"A cat walks slowly along the sandy beach at sunset.",
                                          "  Two   astronauts\tfly high over\nthe starry sky &amp;amp; a frozen lake  ",
                                          ""};

}  // namespace

TEST_CASE("relative position buckets follow T5's bidirectional scheme") {
    // Expected by hand: 16 buckets per direction, 8 exact, then 8 + int(log(a/8)/log(16)*8), max 15.
    const auto rel = torch::tensor({0, -1, 1, -7, 7, -8, 8, -16, 16, -127, -128, 200}, torch::kLong);
    const auto got = models::umt5_detail::relative_position_bucket(rel, 32, 128);
    const std::vector<int64_t> expected = {0, 1, 17, 7, 23, 8, 24, 10, 26, 15, 15, 31};
    CHECK(std::vector<int64_t>(got.data_ptr<int64_t>(), got.data_ptr<int64_t>() + got.numel()) == expected);
}

TEST_CASE("config.json: the golden UMT5 config, and errors naming file and field") {
    const auto c = models::umt5_config::from_json_file(te_dir() / "config.json");
    CHECK(c.model_type == "umt5");
    CHECK(c.d_model == 32);
    CHECK(c.num_layers == 2);
    CHECK(c.num_heads == 4);
    CHECK(c.d_kv == 8);
    CHECK(c.d_ff == 48);
    CHECK(c.vocab_size == 256);
    CHECK(c.is_gated_act);
    CHECK(c.dense_act_fn == "gelu_new");
    CHECK(c.per_layer_relative_bias);

    temp_dir tmp;
    {
        std::ofstream(tmp.path / "config.json") << R"({"model_type": "umt5", "d_model": 8, "d_kv": 2,
            "num_heads": 4, "d_ff": 16, "vocab_size": 10})";
    }
    const auto missing = what_of([&] { models::umt5_config::from_json_file(tmp.path / "config.json"); });
    CHECK(missing.find("num_layers") != std::string::npos);
    CHECK(missing.find("config.json") != std::string::npos);
    {
        std::ofstream(tmp.path / "config.json") << R"({"model_type": "bert"})";
    }
    CHECK(what_of([&] { models::umt5_config::from_json_file(tmp.path / "config.json"); }).find("model_type") !=
          std::string::npos);
}

TEST_CASE("strict loading: a missing or unexpected key is an error naming it") {
    temp_dir a;
    const auto without = edited_copy(a, [](auto &t) {
        std::erase_if(t, [](const auto &kv) { return kv.first == "encoder.block.1.layer.1.DenseReluDense.wi_1.weight"; });
    });
    CHECK(what_of([&] { models::text_encoder::load(without, tok_dir()); })
              .find("encoder.block.1.layer.1.DenseReluDense.wi_1.weight") != std::string::npos);

    temp_dir b;
    const auto extra = edited_copy(b, [](auto &t) {
        t.emplace_back("encoder.block.0.layer.0.SelfAttention.extra.weight", torch::zeros({2}));
    });
    CHECK(what_of([&] { models::text_encoder::load(extra, tok_dir()); })
              .find("encoder.block.0.layer.0.SelfAttention.extra.weight") != std::string::npos);

    temp_dir c;
    const auto no_embedding = edited_copy(c, [](auto &t) {
        std::erase_if(t, [](const auto &kv) { return kv.first == "shared.weight"; });
    });
    CHECK(what_of([&] { models::text_encoder::load(no_embedding, tok_dir()); }).find("shared.weight") !=
          std::string::npos);
}

TEST_CASE("decoder/lm_head keys are ignored and the embedding may be stored as encoder.embed_tokens") {
    const auto reference = models::text_encoder::load(te_dir(), tok_dir()).encode(prompts, 16).embeds;

    temp_dir a;
    const auto seq2seq = edited_copy(a, [](auto &t) {
        t.emplace_back("decoder.block.0.layer.0.SelfAttention.q.weight", torch::zeros({4, 4}));
        t.emplace_back("lm_head.weight", torch::zeros({4, 4}));
        // The tied copy next to shared.weight, as some exports store both.
        for (const auto &kv : std::vector(t)) {
            if (kv.first == "shared.weight") t.emplace_back("encoder.embed_tokens.weight", kv.second);
        }
    });
    CHECK(torch::equal(models::text_encoder::load(seq2seq, tok_dir()).encode(prompts, 16).embeds, reference));

    temp_dir b;
    const auto renamed = edited_copy(b, [](auto &t) {
        for (auto &kv : t) {
            if (kv.first == "shared.weight") kv.first = "encoder.embed_tokens.weight";
        }
    });
    CHECK(torch::equal(models::text_encoder::load(renamed, tok_dir()).encode(prompts, 16).embeds, reference));
}

TEST_CASE("encode: rows past each prompt are zero, trimming changes nothing beyond rounding") {
    const auto enc = models::text_encoder::load(te_dir(), tok_dir());
    const auto e = enc.encode(prompts, 64);
    REQUIRE(e.embeds.sizes() == torch::IntArrayRef({3, 64, 32}));
    REQUIRE(e.seq_lens.size() == 3);
    CHECK(e.seq_lens[2] == 1);  // "" -> just </s>
    CHECK(e.input_ids[2][0].item<int64_t>() == 1);
    for (int64_t i = 0; i < 3; ++i) {
        const int64_t n = e.seq_lens[static_cast<size_t>(i)];
        REQUIRE(n < 64);
        CHECK(e.attention_mask[i].sum().item<int64_t>() == n);
        CHECK(e.embeds[i].narrow(0, n, 64 - n).abs().max().item<float>() == 0.0f);
        CHECK(e.embeds[i].narrow(0, 0, n).abs().sum(-1).min().item<float>() > 0.0f);
    }

    models::text_encoder_options full;
    full.trim_to_longest = false;
    const auto untrimmed = models::text_encoder::load(te_dir(), tok_dir(), full).encode(prompts, 64).embeds;
    CHECK((untrimmed - e.embeds).abs().max().item<float>() <= 1e-6f);

    // The pipeline's embeddings are the raw encoder output, rows zeroed.
    const auto raw = enc.forward(e.input_ids, e.attention_mask);
    const int64_t n0 = e.seq_lens[0];
    CHECK((raw[0].narrow(0, 0, n0) - e.embeds[0].narrow(0, 0, n0)).abs().max().item<float>() <= 1e-6f);

    const auto none = enc.encode({}, 16);
    CHECK(none.embeds.sizes() == torch::IntArrayRef({0, 16, 32}));
    CHECK(what_of([&] { enc.encode(prompts, 0); }).find("max_sequence_length") != std::string::npos);
}

TEST_CASE("bf16: runs in bfloat16 with fp32 wo, close to the fp32 result") {
    models::text_encoder_options bf16;
    bf16.dtype = torch::kBFloat16;
    const auto enc = models::text_encoder::load(te_dir(), tok_dir(), bf16);
    CHECK((enc.dtype() == torch::kBFloat16));
    const auto e = enc.encode(prompts, 16);
    CHECK((e.embeds.scalar_type() == torch::kBFloat16));
    const auto ref = models::text_encoder::load(te_dir(), tok_dir()).encode(prompts, 16).embeds;
    const float scale = ref.abs().max().item<float>();
    CHECK((e.embeds.to(torch::kFloat) - ref).abs().max().item<float>() <= 0.05f * scale);

    // The FFN output projections stay fp32, as transformers keeps them (_keep_in_fp32_modules).
    auto model = models::umt5_detail::encoder_model(models::umt5_config::from_json_file(te_dir() / "config.json"),
                                                    models::umt5_detail::encoder_model_impl::embedding_key::shared,
                                                    models::umt5_detail::precision{torch::kBFloat16, torch::kBFloat16});
    models::load_options lo;
    lo.dtype = torch::kBFloat16;
    lo.keep_fp32 = {"wo"};
    models::load_module(*model, models::tensor_store::open(te_dir()), lo);
    for (const auto &kv : model->named_parameters()) {
        CAPTURE(kv.key());
        const bool is_wo = kv.key().find(".wo.") != std::string::npos;
        const bool dtype_ok = kv.value().scalar_type() == (is_wo ? torch::kFloat : torch::kBFloat16);
        CHECK(dtype_ok);
    }
}

TEST_CASE("bf16 weights computed in fp32 equal an fp32 load of the same bf16 checkpoint, bit for bit") {
    temp_dir a;
    const auto bf16_checkpoint = edited_copy(a, [](auto &t) {
        for (auto &kv : t) kv.second = kv.second.to(torch::kBFloat16);
    });
    models::text_encoder_options fp32_weights;
    fp32_weights.weight_dtype = torch::kFloat;
    const auto reference = models::text_encoder::load(bf16_checkpoint, tok_dir(), fp32_weights);
    CHECK((reference.weight_dtype() == torch::kFloat));
    const auto as_fp32 = reference.encode(prompts, 16).embeds;

    models::text_encoder_options compact;
    compact.weight_dtype = torch::kBFloat16;
    const auto enc = models::text_encoder::load(bf16_checkpoint, tok_dir(), compact);
    CHECK((enc.weight_dtype() == torch::kBFloat16));
    const auto e = enc.encode(prompts, 16);
    CHECK((e.embeds.scalar_type() == torch::kFloat));
    CHECK(torch::equal(e.embeds, as_fp32));

    // Automatic choice: a bf16 checkpoint computed in fp32 is kept bf16 (same numbers), an fp32
    // checkpoint stays fp32.
    const auto automatic = models::text_encoder::load(bf16_checkpoint, tok_dir());
    CHECK((automatic.weight_dtype() == torch::kBFloat16));
    CHECK(torch::equal(automatic.encode(prompts, 16).embeds, as_fp32));
    CHECK((models::text_encoder::load(te_dir(), tok_dir()).weight_dtype() == torch::kFloat));
    // From an fp32 checkpoint the weights are rounded to bf16 first: the same result again.
    CHECK(torch::equal(models::text_encoder::load(te_dir(), tok_dir(), compact).encode(prompts, 16).embeds, as_fp32));

    models::text_encoder_options bad;
    bad.dtype = torch::kBFloat16;
    bad.weight_dtype = torch::kFloat;
    CHECK(what_of([&] { models::text_encoder::load(te_dir(), tok_dir(), bad); }).find("weight_dtype") !=
          std::string::npos);
}

TEST_CASE("T5 (Stable Audio style) layout: relu FFN with wi, relative bias in block 0 only") {
    // Names and plumbing only: there is no T5 golden, so the numbers are not checked against a reference.
    temp_dir tmp;
    {
        std::ofstream(tmp.path / "config.json") << R"({"model_type": "t5", "d_model": 16, "d_kv": 4,
            "num_heads": 4, "d_ff": 24, "num_layers": 3, "vocab_size": 300, "feed_forward_proj": "relu"})";
    }
    const auto config = models::umt5_config::from_json_file(tmp.path / "config.json");
    CHECK_FALSE(config.per_layer_relative_bias);
    CHECK_FALSE(config.is_gated_act);
    models::umt5_detail::encoder_model shape_only(config, models::umt5_detail::encoder_model_impl::embedding_key::shared,
                                                  models::umt5_detail::precision{});
    std::vector<std::pair<std::string, at::Tensor>> tensors;
    torch::manual_seed(3);
    for (const auto &kv : shape_only->named_parameters()) tensors.emplace_back(kv.key(), torch::randn(kv.value().sizes()) * 0.3);
    models::save_safetensors(tmp.path / "model.safetensors", tensors);

    std::set<std::string> names;
    for (const auto &kv : tensors) names.insert(kv.first);
    CHECK(names.count("encoder.block.0.layer.0.SelfAttention.relative_attention_bias.weight") == 1);
    CHECK(names.count("encoder.block.1.layer.0.SelfAttention.relative_attention_bias.weight") == 0);
    CHECK(names.count("encoder.block.2.layer.1.DenseReluDense.wi.weight") == 1);
    CHECK(names.count("encoder.block.2.layer.1.DenseReluDense.wi_0.weight") == 0);

    models::text_encoder_options opts;
    opts.clean_prompts = false;
    const auto enc = models::text_encoder::load(tmp.path, tok_dir(), opts);
    const auto e = enc.encode({"A cat walks slowly along the sandy beach at sunset."}, 20);
    CHECK(e.embeds.sizes() == torch::IntArrayRef({1, 20, 16}));
    CHECK(torch::isfinite(e.embeds).all().item<bool>());
}

TEST_CASE("bad inputs: unsupported dtype, missing tokenizer, missing folder") {
    models::text_encoder_options half;
    half.dtype = torch::kHalf;
    CHECK(what_of([&] { models::text_encoder::load(te_dir(), tok_dir(), half); }).find("Half") != std::string::npos);

    temp_dir empty;
    CHECK(what_of([&] { models::text_encoder::load(te_dir(), empty.path); }).find("spiece.model") != std::string::npos);
    CHECK(what_of([&] { models::text_encoder::load(empty.path / "nope", tok_dir()); }).find("nope") !=
          std::string::npos);
}
