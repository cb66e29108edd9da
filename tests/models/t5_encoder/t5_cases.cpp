// T5EncoderModel parity: last_hidden_state of tiny random transformers models (relu FFN as t5-base,
// and gated-gelu) on padded id batches. The golden files live in the repository
// (tests/golden_local, from scripts/golden/make_t5_case.py), not in the shared golden set, which
// starts the Stable Audio cases from text embeddings.
#include "golden.h"
#include "parity.h"

#include "umt5/umt5_encoder.h"

#include <ATen/ATen.h>

#include <cstdio>

namespace {

using namespace omnihost;

parity::outcome check_t5(const std::string &variant) {
    const parity::context local{OMNIHOST_GOLDEN_LOCAL_DIR};
    auto gc = parity::golden_case::load(local, "t5_cases/encoder_" + variant);
    const auto model = gc.info().at("model").get<std::string>();
    const auto encoder = models::text_encoder::load_encoder(parity::golden_path(local, model));
    if (encoder.config().model_type != "t5" || encoder.config().per_layer_relative_bias)
        throw parity::failure(model + ": not loaded as a T5 layout (relative bias in block 0 only)");
    const auto [atol, rtol] = gc.tolerance("last_hidden_state");
    parity::outcome out;
    parity::expect_close("last_hidden_state", encoder.forward(gc.tensor("input_ids"), gc.tensor("attention_mask")),
                         gc.tensor("last_hidden_state"), atol, rtol, out);
    const auto &v = gc.info().at("versions");
    char buf[160];
    std::snprintf(buf, sizeof buf, "atol %g rtol %g; transformers %s, torch %s", atol, rtol,
                  v.at("transformers").get<std::string>().c_str(), v.at("torch").get<std::string>().c_str());
    out.note = buf;
    return out;
}

}  // namespace

PARITY_CASE("t5/encoder_relu") { return check_t5("relu"); }
PARITY_CASE("t5/encoder_gated_gelu") { return check_t5("gated_gelu"); }
