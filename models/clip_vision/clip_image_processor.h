// CLIPImageProcessor as Wan2.1 I2V ships it (image_processor/preprocessor_config.json): resize the
// shortest side to size.shortest_edge with Pillow's bicubic filter, center crop to crop_size,
// rescale by 1/255, normalise with the OpenAI CLIP mean/std, channels first.
//
// Numerics: the numbers of transformers' PIL backend (CLIPImageProcessorPil in transformers 5, the
// plain CLIPImageProcessor before it, which diffusers' WanImageToVideoPipeline used). The resize is
// a reimplementation of Pillow's 8-bit fixed-point bicubic (a = -0.5, antialiased when shrinking,
// horizontal pass then vertical, each rounded and clipped to uint8), so for uint8 input the resized
// pixels equal Pillow's bit for bit, and pixel_values agree to float32 rounding. Where it can differ:
//  - float input is rounded to the nearest integer first (Pillow resizes 8-bit pixels). transformers
//    takes integral floats in [0, 255] the same way; a float image in [0, 1] is multiplied by 255
//    and truncated by transformers, which this processor does not imitate: pass 0..255 values;
//  - transformers 5's default CLIPImageProcessor (torchvision backend) resizes with
//    torchvision's bicubic on tensors, which differs from Pillow by a few levels per pixel; that
//    backend is not what this reproduces;
//  - only RGB: the caller decodes to 3 channels (do_convert_rgb drops alpha without blending).
#pragma once

#include <ATen/core/Tensor.h>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>

namespace omnihost::models {

struct clip_image_processor_config {
    bool do_resize = true;
    int64_t shortest_edge = 224;
    bool do_center_crop = true;
    int64_t crop_height = 224;
    int64_t crop_width = 224;
    bool do_rescale = true;
    double rescale_factor = 1.0 / 255.0;
    bool do_normalize = true;
    std::array<double, 3> image_mean{0.48145466, 0.4578275, 0.40821073};
    std::array<double, 3> image_std{0.26862954, 0.26130258, 0.27577711};

    // Reads preprocessor_config.json (missing keys take the values above; "resample" must be 3,
    // bicubic; "size" must be {"shortest_edge": N}; "crop_size" an int or {"height", "width"}).
    // Throws model_error naming the file and the key.
    static clip_image_processor_config from_json_file(const std::filesystem::path &file);
    static clip_image_processor_config from_json_text(const std::string &text, const std::string &origin);
};

// Upper bound on the input image and on the resize target side, each way (a 16k x 16k RGB image is
// 768 MB of pixels; callers decoding untrusted images cap them lower before this).
constexpr int64_t clip_max_image_side = 16384;

// image: [H, W, 3] uint8, or floating with values in [0, 255] (rounded, see above); any device
// (processed on the CPU). Returns pixel_values [1, 3, crop_height, crop_width] float32 on the CPU.
// Throws model_error naming the problem for a wrong shape, dtype, size or value range.
at::Tensor clip_preprocess(const at::Tensor &image, const clip_image_processor_config &cfg);

enum class pil_filter { bicubic, lanczos };

// Pillow's Image.resize((out_w, out_h), filter) on a [H, W, C] uint8 image (C = 1..4), without
// reducing_gap: 8-bit fixed-point, horizontal pass then vertical, each only when its size changes
// (same size: a copy). Lanczos is what diffusers' VaeImageProcessor resizes with.
at::Tensor pil_resize(const at::Tensor &image_u8, int64_t out_h, int64_t out_w, pil_filter filter);
// pil_resize(..., pil_filter::bicubic). Exposed for tests.
at::Tensor pil_bicubic_resize(const at::Tensor &image_u8, int64_t out_h, int64_t out_w);

}  // namespace omnihost::models
