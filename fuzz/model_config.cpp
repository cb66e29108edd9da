// A model folder's JSON configs (transformer/config.json, vae/config.json, text_encoder/config.json,
// scheduler/scheduler_config.json) read by every reader the Wan pipeline uses, and a scheduler
// built from the text and set up for a few step counts.
// Properties: a bad config is a model_error naming the file, nothing else escapes, and no reader
// crashes or hits undefined behaviour (divisions, float-to-int casts) on any accepted value.
#include "fuzz_check.h"

#include "core/config.h"
#include "core/safetensors.h"  // model_error
#include "schedulers/scheduler.h"
#include "umt5/umt5_config.h"
#include "wan_transformer/wan_transformer_config.h"
#include "wan_vae/wan_vae.h"

#include <cstdlib>
#include <fstream>

namespace {

using namespace omnihost::models;

const std::string &config_file() {
    static const std::string file = [] {
        const char *tmp = std::getenv("TMPDIR");
        std::string pattern = std::string(tmp && *tmp ? tmp : "/tmp") + "/omnihost-fuzz-config-XXXXXX";
        FUZZ_CHECK(mkdtemp(pattern.data()) != nullptr, "cannot create a temporary folder");
        return pattern + "/config.json";
    }();
    return file;
}

template <class F>
void expect_model_error_only(F &&read) {
    try {
        read();
    } catch (const model_error &e) {
        FUZZ_CHECK(std::string_view(e.what()).find("config.json") != std::string_view::npos ||
                       std::string_view(e.what()).find("num_inference_steps") != std::string_view::npos,
                   "a config error that names neither the file nor the setting");
    }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    const std::string text(reinterpret_cast<const char *>(data), size);
    json_config config;
    try {
        config = json_config::parse(text, "config.json");
    } catch (const model_error &) {
        return 0;
    }
    expect_model_error_only([&] { (void)wan::wan_transformer_config::from_json(config); });
    expect_model_error_only([&] { (void)wan_vae::vae_config::from_json(config); });
    {
        std::ofstream out(config_file(), std::ios::binary | std::ios::trunc);
        out << text;
    }
    expect_model_error_only([&] { (void)umt5_config::from_json_file(config_file()); });
    expect_model_error_only([&] {
        auto scheduler = schedulers::make_scheduler(config);
        for (const int64_t steps : {1, 4, 50}) {
            scheduler->set_timesteps(steps);
            for (int64_t i = 0; i < scheduler->num_steps(); ++i) (void)scheduler->timestep(i);
        }
    });
    return 0;
}
