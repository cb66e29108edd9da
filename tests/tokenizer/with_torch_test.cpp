// libsentencepiece and libtorch in one process: this executable links libtorch directly, so
// libprotobuf 3.21 sits in the global symbol scope before the tokenizer module is loaded — the
// harshest order (a plain RTLD_LOCAL dlopen aborts here; env-notes §2c-bis). Torch must keep
// working after the tokenizer is used, and the ids must still be the golden ones.
// <torch/torch.h> defines a glog-style CHECK (c10/util/logging_is_not_google_glog.h) that would
// silently replace doctest's: include torch first and drop it before doctest defines its own.
#include <torch/torch.h>
#undef CHECK

#include "golden_ids.h"
#include "prompt_clean.h"
#include "spm_tokenizer.h"

#include <doctest/doctest.h>

#include <numeric>

using namespace omnihost::text;

TEST_CASE("sentencepiece module and libtorch coexist in one process") {
    torch::manual_seed(0);
    const auto a = torch::randn({64, 64});
    const double before = torch::mm(a, a.t()).trace().item<double>();

    const auto dir = omnihost::test::golden_dir() / "wan21_cases";
    const auto meta = nlohmann::json::parse(omnihost::test::read_file(dir / "tokenizer_ids.json"));
    const auto golden = omnihost::test::read_i64_safetensors(dir / "tokenizer_ids.safetensors");
    const auto tok = spm_tokenizer::load(omnihost::test::golden_dir() / "wan21_tiny" / "tokenizer");
    std::vector<std::string> cleaned;
    for (const auto &p : meta.at("prompts")) cleaned.push_back(wan_prompt_clean(p.get<std::string>()));
    const auto b = tokenize_padded(tok, cleaned, 16);
    CHECK(b.input_ids == golden.at("L16.input_ids").values);

    // Same tensor math after sentencepiece (and its protobuf) ran in the process.
    const auto ids = torch::from_blob(const_cast<int64_t *>(b.input_ids.data()), {b.batch, b.length}, torch::kLong);
    CHECK(ids.sum().item<int64_t>() == std::accumulate(b.input_ids.begin(), b.input_ids.end(), int64_t{0}));
    CHECK(torch::mm(a, a.t()).trace().item<double>() == before);
}
