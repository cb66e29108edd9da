// Image preprocessing for the image-to-video paths (WanImageToVideoPipeline's video_processor) and
// the documented size helper.
#include "wan_pipeline_impl.h"

#include <ATen/ATen.h>

#include <cmath>

namespace omnihost::models::wan {

std::pair<int64_t, int64_t> fit_to_area(int64_t image_width, int64_t image_height, int64_t max_area, int64_t multiple) {
    if (image_width < 1 || image_height < 1 || max_area < 1 || multiple < 1)
        throw std::invalid_argument("fit_to_area: sizes must be positive");
    const double aspect = double(image_height) / double(image_width);
    // Python's round() on a float64: half to even, which nearbyint does in the default rounding mode.
    auto side = [&](double v) {
        const int64_t s = int64_t(std::nearbyint(v)) / multiple * multiple;
        return s < multiple ? multiple : s;
    };
    return {side(std::sqrt(double(max_area) * aspect)), side(std::sqrt(double(max_area) / aspect))};
}

namespace detail {

at::Tensor image_tensor(const rgb_image &image, const std::string &field) {
    if (image.width < 1 || image.height < 1)
        throw request_error(field, field + ": width and height must be positive (got " + std::to_string(image.width) +
                                       "x" + std::to_string(image.height) + ")");
    if (image.width > clip_max_image_side || image.height > clip_max_image_side)
        throw request_error(field, field + ": " + std::to_string(image.width) + "x" + std::to_string(image.height) +
                                       " is larger than " + std::to_string(clip_max_image_side) + " pixels a side");
    const uint64_t want = uint64_t(image.width) * uint64_t(image.height) * 3;
    if (image.rgb.size() != want)
        throw request_error(field, field + ": " + std::to_string(image.rgb.size()) + " bytes for a " +
                                       std::to_string(image.width) + "x" + std::to_string(image.height) +
                                       " RGB image (want " + std::to_string(want) + ")");
    return at::from_blob(const_cast<uint8_t *>(image.rgb.data()), {image.height, image.width, 3}, at::kByte).clone();
}

at::Tensor preprocess_for_vae(const at::Tensor &u8, int64_t height, int64_t width) {
    // PIL's resize returns a copy when the size is already right; pil_resize does the same.
    const at::Tensor resized = pil_resize(u8, height, width, pil_filter::lanczos);
    // pil_to_numpy: float32 / 255; numpy_to_pt: [1, 3, H, W]; normalize: 2 x - 1 (all float32).
    at::Tensor x = resized.to(at::kFloat) / 255.0f;
    x = x.permute({2, 0, 1}).unsqueeze(0).contiguous();
    return 2.0f * x - 1.0f;
}

}  // namespace detail
}  // namespace omnihost::models::wan
