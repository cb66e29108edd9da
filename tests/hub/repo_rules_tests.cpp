// The untrusted-name rules and the pipeline file selection, without a server.
#include <doctest/doctest.h>

#include "hub_error.h"
#include "hub_repo.h"

#include <algorithm>

using namespace omnihost::hub;

TEST_SUITE("hub_rules") {

TEST_CASE("file names from the server: '..', absolute, empty parts and odd characters are unsafe") {
    CHECK(safe_repo_path("model_index.json"));
    CHECK(safe_repo_path("text_encoder/model-00001-of-00002.safetensors"));
    for (const char *bad : {"../x.json", "a/../../x.json", "/etc/passwd.json", "a//b.json", "./a.json", "a/./b.json",
                            "a\\b.json", "a/", "", "c:x.json", "a/\x01.json"})
        CHECK_MESSAGE(!safe_repo_path(bad), bad);
    CHECK(!safe_repo_path(std::string(2000, 'a')));
    CHECK(safe_cache_name("0123abcdef"));
    for (const char *bad : {"", "../x", "a/b", "a.b", "\"abc\""}) CHECK_MESSAGE(!safe_cache_name(bad), bad);
}

TEST_CASE("only what a diffusers pipeline loads is selected; precision variants beside plain weights are not") {
    const std::vector<std::string> listed = {
        "model_index.json", "README.md", ".gitattributes", "vae/config.json", "vae/diffusion_pytorch_model.safetensors",
        "vae/diffusion_pytorch_model.fp16.safetensors", "vae/diffusion_pytorch_model.bin",
        "unet_only_fp16/diffusion_pytorch_model.fp16.safetensors", "tokenizer/merges.txt", "tokenizer/spiece.model",
        "text_encoder/model.safetensors.index.json", "text_encoder/model-00001-of-00002.safetensors",
        "text_encoder/model.bf16-00001-of-00002.safetensors", "assets/demo.png"};
    const auto got = select_files(listed, pipeline_allow_patterns());
    const std::vector<std::string> want = {
        "model_index.json", "text_encoder/model-00001-of-00002.safetensors", "text_encoder/model.safetensors.index.json",
        "tokenizer/merges.txt", "tokenizer/spiece.model",
        "unet_only_fp16/diffusion_pytorch_model.fp16.safetensors",  // the only weights of that folder
        "vae/config.json", "vae/diffusion_pytorch_model.safetensors"};
    CHECK(got == want);
}

TEST_CASE("an unsafe name among the wanted files refuses the whole list") {
    try {
        select_files({"model_index.json", "../../escape.json"}, pipeline_allow_patterns());
        FAIL("no error");
    } catch (const hub_error &e) {
        CHECK(e.kind == hub_error_kind::unsafe);
        CHECK(std::string(e.what()).find("../../escape.json") != std::string::npos);
    }
}

TEST_CASE("model_index.json names the component folders; only they and the top-level configs are kept") {
    const auto components = pipeline_components(R"({"_class_name": "WanPipeline", "_diffusers_version": "0.35",
        "transformer": ["diffusers", "WanTransformer3DModel"], "vae": ["diffusers", "AutoencoderKLWan"],
        "text_encoder": [null, null], "../escape": ["x", "y"], "not_a_pair": "x"})");
    CHECK(components == std::vector<std::string>{"text_encoder", "transformer", "vae"});
    const std::vector<std::string> files = {"model_index.json", "model.safetensors", "scheduler_config.json",
                                            "transformer/config.json", "vae/diffusion_pytorch_model.safetensors",
                                            "controlnet/config.json", "config.json"};
    CHECK(restrict_to_components(files, components) ==
          std::vector<std::string>{"model_index.json", "scheduler_config.json", "transformer/config.json",
                                   "vae/diffusion_pytorch_model.safetensors", "config.json"});
    CHECK_THROWS_AS(pipeline_components("[1,2]"), hub_error);
    CHECK_THROWS_AS(pipeline_components(std::string(50, '[')), hub_error);
}

TEST_CASE("the revision answer is parsed bounded and validated") {
    const auto r = parse_revision_info(R"({"sha":"0123456789abcdef0123456789abcdef01234567","siblings":[{"rfilename":"a.json"}]})");
    CHECK(r.commit == "0123456789abcdef0123456789abcdef01234567");
    CHECK(r.files == std::vector<std::string>{"a.json"});
    auto kind_of = [](const std::string &text) {
        try {
            parse_revision_info(text);
        } catch (const hub_error &e) {
            return e.kind;
        }
        return hub_error_kind::io;  // "no error"
    };
    CHECK(kind_of("not json") == hub_error_kind::protocol);
    CHECK(kind_of(std::string(100, '[') + std::string(100, ']')) == hub_error_kind::protocol);  // too deep
    CHECK(kind_of(R"({"sha":"../../x","siblings":[]})") == hub_error_kind::protocol);
    CHECK(kind_of(R"({"sha":"abc"})") == hub_error_kind::protocol);
    CHECK(kind_of(R"({"sha":"abc","siblings":[{"rfilename":3}]})") == hub_error_kind::protocol);
}

}
