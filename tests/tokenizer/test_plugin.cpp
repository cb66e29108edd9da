// A stand-in for a torch plugin (like libvideo_diffusion.so): links libtorch and the tokenizer
// client, is loaded with RTLD_LOCAL by a host that links neither, and from inside finds and loads
// the sentencepiece module. Used only by plugin_scope_test.cpp.
#include "prompt_clean.h"
#include "spm_tokenizer.h"

#include <torch/torch.h>

#include <cstdio>
#include <exception>

extern "C" __attribute__((visibility("default"))) int64_t omnihost_tokenizer_test_plugin_run(
    const char *tokenizer_dir, const char *prompt, int64_t *ids, int64_t cap, char *module_path, size_t module_cap,
    char *err, size_t err_cap) {
    try {
        // libtorch (and its protobuf) is live in this plugin before the tokenizer module loads.
        const auto live = torch::ones({8, 8}).matmul(torch::ones({8, 8})).sum().item<double>();
        if (live != 512.0) throw std::runtime_error("libtorch computed a wrong value");
        const auto found = omnihost::text::find_tokenizer_module();
        std::snprintf(module_path, module_cap, "%s", found.c_str());
        const auto tok = omnihost::text::spm_tokenizer::load(tokenizer_dir);
        const auto batch = omnihost::text::tokenize_padded(tok, {omnihost::text::wan_prompt_clean(prompt)}, cap);
        for (int64_t i = 0; i < cap; ++i) ids[i] = batch.input_ids[static_cast<size_t>(i)];
        if (torch::ones({8, 8}).matmul(torch::ones({8, 8})).sum().item<double>() != live) {
            throw std::runtime_error("libtorch changed its result after the tokenizer ran");
        }
        return cap;
    } catch (const std::exception &e) {
        std::snprintf(err, err_cap, "%s", e.what());
        return -1;
    }
}
