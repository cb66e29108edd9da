// Pillow resize parity: pil_resize (Lanczos for the Wan image-to-video condition, bicubic for the
// CLIP processor) against PIL.Image.resize on uint8 RGB images, pixel for pixel. The cases
// (tests/golden_local/pil_resize_cases, from scripts/golden/make_pil_resize_cases.py) cover both of
// Pillow's pass orders, the boundary between them, one axis unchanged, upscales and mixed resizes.
#include "golden.h"
#include "parity.h"

#include "clip_vision/clip_image_processor.h"

#include <ATen/ATen.h>

namespace {

using namespace omnihost;

const parity::context &local() {
    static const parity::context ctx{OMNIHOST_GOLDEN_LOCAL_DIR};
    return ctx;
}

parity::outcome check_resize(const std::string &name) {
    auto gc = parity::golden_case::load(local(), "pil_resize_cases/" + name);
    const auto &info = gc.info();
    const std::string filter = info.at("filter").get<std::string>();
    models::pil_filter f;
    if (filter == "lanczos") f = models::pil_filter::lanczos;
    else if (filter == "bicubic") f = models::pil_filter::bicubic;
    else throw parity::failure(name + ".json: unknown filter '" + filter + "'");
    const auto got = models::pil_resize(gc.tensor("image"), info.at("height").get<int64_t>(),
                                        info.at("width").get<int64_t>(), f);
    parity::outcome out;
    parity::expect_equal("resized", got, gc.tensor("resized"), out);
    out.note = filter + ", Pillow " + info.at("versions").at("pillow").get<std::string>();
    return out;
}

}  // namespace

PARITY_CASE("pil_resize/lanczos_vertical_first") { return check_resize("lanczos_vertical_first"); }
PARITY_CASE("pil_resize/lanczos_vertical_first_width_grows") { return check_resize("lanczos_vertical_first_width_grows"); }
PARITY_CASE("pil_resize/lanczos_vertical_first_tall") { return check_resize("lanczos_vertical_first_tall"); }
PARITY_CASE("pil_resize/lanczos_horizontal_first") { return check_resize("lanczos_horizontal_first"); }
PARITY_CASE("pil_resize/lanczos_boundary_horizontal_first") { return check_resize("lanczos_boundary_horizontal_first"); }
PARITY_CASE("pil_resize/lanczos_wan_size") { return check_resize("lanczos_wan_size"); }
PARITY_CASE("pil_resize/lanczos_height_only") { return check_resize("lanczos_height_only"); }
PARITY_CASE("pil_resize/lanczos_width_only") { return check_resize("lanczos_width_only"); }
PARITY_CASE("pil_resize/lanczos_upscale") { return check_resize("lanczos_upscale"); }
PARITY_CASE("pil_resize/lanczos_up_down") { return check_resize("lanczos_up_down"); }
PARITY_CASE("pil_resize/bicubic_vertical_first") { return check_resize("bicubic_vertical_first"); }
PARITY_CASE("pil_resize/bicubic_horizontal_first") { return check_resize("bicubic_horizontal_first"); }
PARITY_CASE("pil_resize/bicubic_vertical_first_narrow") { return check_resize("bicubic_vertical_first_narrow"); }
