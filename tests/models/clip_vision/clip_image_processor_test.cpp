// CLIP image preprocessing: config parsing (every key, errors naming it), the resize sizes of
// transformers' shortest-edge rule, Pillow-bicubic properties, crop padding, and refusals.
#include "clip_vision/clip_image_processor.h"

#include <ATen/ATen.h>

#include <functional>
#include <nlohmann/json.hpp>

#include <doctest/doctest.h>

using namespace omnihost::models;

namespace {

std::string error_of(const std::function<void()> &fn) {
    try {
        fn();
    } catch (const std::exception &e) {
        return e.what();
    }
    return "<no error>";
}

// Wan2.1 I2V's image_processor/preprocessor_config.json.
nlohmann::json wan_config() {
    return nlohmann::json::parse(R"({
      "crop_size": {"height": 224, "width": 224}, "do_center_crop": true, "do_convert_rgb": true,
      "do_normalize": true, "do_rescale": true, "do_resize": true,
      "image_mean": [0.48145466, 0.4578275, 0.40821073], "image_processor_type": "CLIPImageProcessor",
      "image_std": [0.26862954, 0.26130258, 0.27577711], "resample": 3,
      "rescale_factor": 0.00392156862745098, "size": {"shortest_edge": 224}})");
}

std::string config_error(const std::function<void(nlohmann::json &)> &edit) {
    auto j = wan_config();
    edit(j);
    return error_of([&] { clip_image_processor_config::from_json_text(j.dump(), "preprocessor_config.json"); });
}

at::Tensor ramp(int64_t h, int64_t w) {
    return (at::arange(h * w * 3, at::kLong) % 256).to(at::kByte).view({h, w, 3});
}

}  // namespace

TEST_CASE("models.clip_vision.processor: Wan's preprocessor_config.json") {
    const auto c = clip_image_processor_config::from_json_text(wan_config().dump(), "x");
    CHECK(c.shortest_edge == 224);
    CHECK(c.crop_height == 224);
    CHECK(c.crop_width == 224);
    CHECK(c.rescale_factor == doctest::Approx(1.0 / 255.0));
    CHECK(c.image_mean[2] == doctest::Approx(0.40821073));
    CHECK(c.image_std[0] == doctest::Approx(0.26862954));
    auto j = wan_config();
    j["crop_size"] = 100;
    j["size"] = {{"shortest_edge", 120}};
    const auto d = clip_image_processor_config::from_json_text(j.dump(), "x");
    CHECK(d.crop_height == 100);
    CHECK(d.crop_width == 100);
    CHECK(d.shortest_edge == 120);
}

TEST_CASE("models.clip_vision.processor: config errors name the key") {
    CHECK(config_error([](auto &j) { j["resample"] = 2; }).find("'resample'") != std::string::npos);
    CHECK(config_error([](auto &j) { j["size"] = {{"height", 3}, {"width", 4}}; }).find("'size'") != std::string::npos);
    CHECK(config_error([](auto &j) { j["size"] = {{"shortest_edge", 0}}; }).find("shortest_edge") != std::string::npos);
    CHECK(config_error([](auto &j) { j["crop_size"] = {{"height", 1 << 20}, {"width", 4}}; }).find("crop_size.height") !=
          std::string::npos);
    CHECK(config_error([](auto &j) { j["image_mean"] = {0.5, 0.5}; }).find("'image_mean'") != std::string::npos);
    CHECK(config_error([](auto &j) { j["image_std"] = {0.5, 0.0, 0.5}; }).find("'image_std'") != std::string::npos);
    CHECK(config_error([](auto &j) { j["rescale_factor"] = -1; }).find("'rescale_factor'") != std::string::npos);
    CHECK(config_error([](auto &j) { j["image_processor_type"] = "SiglipImageProcessor"; })
              .find("'image_processor_type'") != std::string::npos);
    CHECK(config_error([](auto &j) { j["do_resize"] = "yes"; }).find("do_resize") != std::string::npos);
    CHECK(config_error([](auto &) {}) == "<no error>");
}

TEST_CASE("models.clip_vision.processor: output size and shortest-edge rule") {
    const clip_image_processor_config c;
    CHECK(clip_preprocess(ramp(45, 67), c).sizes() == at::IntArrayRef{1, 3, 224, 224});
    CHECK(clip_preprocess(ramp(500, 20), c).sizes() == at::IntArrayRef{1, 3, 224, 224});
    // A 30x45 image resized by the rule gives 224 x int(224 * 45 / 30) = 224 x 336.
    CHECK(pil_bicubic_resize(ramp(30, 45), 224, 336).sizes() == at::IntArrayRef{224, 336, 3});
}

TEST_CASE("models.clip_vision.processor: bicubic keeps a flat image flat and is the identity at the same size") {
    const auto flat = at::full({13, 17, 3}, 77, at::kByte);
    CHECK(at::equal(pil_bicubic_resize(flat, 40, 9), at::full({40, 9, 3}, 77, at::kByte)));
    const auto img = ramp(11, 7);
    CHECK(at::equal(pil_bicubic_resize(img, 11, 7), img));
    // Upscaling a two-level step overshoots (bicubic's negative lobe) and is clipped to [0, 255].
    auto step = at::zeros({4, 4, 1}, at::kByte);
    step.narrow(1, 2, 2).fill_(255);
    const auto up = pil_bicubic_resize(step, 4, 16);
    CHECK(up.max().item<int64_t>() == 255);
    CHECK(up.min().item<int64_t>() == 0);
}

TEST_CASE("models.clip_vision.processor: normalisation and the zero padding of a small crop") {
    clip_image_processor_config c;
    c.do_resize = false;
    c.crop_height = 4;
    c.crop_width = 6;
    const auto white = at::full({2, 3, 3}, 255, at::kByte);
    const auto pv = clip_preprocess(white, c);
    REQUIRE(pv.sizes() == at::IntArrayRef{1, 3, 4, 6});
    // The 2x3 image sits at rows 1..2, cols 2..4 (ceil of half the missing pixels before it).
    const float one_r = static_cast<float>((1.0f - 0.48145466f) / 0.26862954f);
    const float zero_r = static_cast<float>((0.0f - 0.48145466f) / 0.26862954f);
    CHECK(pv[0][0][1][2].item<float>() == doctest::Approx(one_r));
    CHECK(pv[0][0][2][4].item<float>() == doctest::Approx(one_r));
    CHECK(pv[0][0][0][2].item<float>() == doctest::Approx(zero_r));
    CHECK(pv[0][0][1][1].item<float>() == doctest::Approx(zero_r));
    CHECK(pv[0][0][1][5].item<float>() == doctest::Approx(zero_r));
}

TEST_CASE("models.clip_vision.processor: integral float input equals uint8 input") {
    const clip_image_processor_config c;
    const auto img = ramp(31, 40);
    CHECK(at::equal(clip_preprocess(img.to(at::kFloat), c), clip_preprocess(img, c)));
}

TEST_CASE("models.clip_vision.processor: bad images are refused with the reason") {
    const clip_image_processor_config c;
    CHECK(error_of([&] { clip_preprocess(at::zeros({5, 5, 4}, at::kByte), c); }).find("[height, width, 3]") !=
          std::string::npos);
    CHECK(error_of([&] { clip_preprocess(at::zeros({5, 5}, at::kByte), c); }).find("[height, width, 3]") !=
          std::string::npos);
    CHECK(error_of([&] { clip_preprocess(at::zeros({0, 5, 3}, at::kByte), c); }).find("size") != std::string::npos);
    CHECK(error_of([&] { clip_preprocess(at::full({5, 5, 3}, 300.0f), c); }).find("[0, 255]") != std::string::npos);
    CHECK(error_of([&] { clip_preprocess(at::full({5, 5, 3}, NAN), c); }).find("[0, 255]") != std::string::npos);
    CHECK(error_of([&] { clip_preprocess(at::zeros({5, 5, 3}, at::kInt), c); }).find("dtype") != std::string::npos);
    // 1 x 16384: the long side would become 224 * 16384, over the limit.
    CHECK(error_of([&] { clip_preprocess(at::zeros({1, 16384, 3}, at::kByte), c); }).find("aspect") !=
          std::string::npos);
}
