// The host's check of a video request's input images against the loaded model's plugin answer
// (health "image_input") and the operator's --max-image-bytes (api/image_inputs.h).
#include <doctest/doctest.h>

#include "api/image_inputs.h"
#include "image_fixtures.h"

using namespace omnihost;
using nlohmann::json;
namespace ti = omnihost::test_images;

namespace {

std::string png_url(int w = 16, int h = 16) {
    return "data:image/png;base64," + ti::base64(ti::encode_rgb(ti::pattern_rgb(w, h), w, h, "png"));
}

std::string health(const json &image_input) {
    json h = {{"ready", true}, {"state", "ready"}};
    if (!image_input.is_null()) h["image_input"] = image_input;
    return h.dump();
}

struct outcome {
    std::optional<api_error> error;
    json body;
    json taken;
};

outcome take(json body, const std::string &health_json, task_kind task = task_kind::Video, int64_t max_bytes = 1 << 20) {
    operator_limits limits;
    limits.max_image_bytes = max_bytes;
    outcome o;
    o.error = take_image_inputs(body, task, health_json, "m", limits, o.taken);
    o.body = std::move(body);
    return o;
}

} // namespace

TEST_SUITE("image_inputs") {

TEST_CASE("modes come from the plugin's health answer; none said = refused, no answer yet = unknown") {
    CHECK(image_input_modes("").is_null());
    CHECK(image_input_modes("not json").is_null());
    CHECK(image_input_modes(health(nullptr)) == json({{"image", "refused"}, {"last_image", "refused"}}));
    CHECK(image_input_modes(health({{"image", "required"}})) == json({{"image", "required"}, {"last_image", "refused"}}));
    CHECK(image_input_modes(health({{"image", "accepted"}, {"last_image", "accepted"}}))["last_image"] == "accepted");
    CHECK(image_input_modes(health({{"image", "maybe"}}))["image"] == "refused");
}

TEST_CASE("a fitting image is taken out of the body for the schema and put back for the plugin") {
    const std::string url = png_url();
    auto o = take({{"prompt", "p"}, {"image", url}}, health({{"image", "accepted"}}));
    REQUIRE_FALSE(o.error);
    CHECK_FALSE(o.body.contains("image"));
    CHECK(o.taken["image"] == url);
    restore_image_inputs(o.body, o.taken);
    CHECK(o.body["image"] == url);
    // Null is "not given"; an accepted image may be left out.
    o = take({{"prompt", "p"}, {"image", nullptr}}, health({{"image", "accepted"}}));
    CHECK_FALSE(o.error);
    CHECK_FALSE(o.body.contains("image"));
    CHECK(o.taken.empty());
}

TEST_CASE("misfits and bad images are 400s naming the field") {
    const std::string url = png_url();
    auto field_of = [](const outcome &o) { return o.error ? o.error->field : std::string(); };
    auto text_of = [](const outcome &o) { return o.error ? o.error->message : std::string(); };
    auto o = take({{"image", url}}, health(nullptr));
    CHECK(field_of(o) == "image");
    CHECK(text_of(o).find("takes no input image") != std::string::npos);
    o = take({{"prompt", "p"}}, health({{"image", "required"}}));
    CHECK(field_of(o) == "image");
    CHECK(text_of(o).find("needs an input image") != std::string::npos);
    o = take({{"image", 5}}, health({{"image", "accepted"}}));
    CHECK(text_of(o).find("must be a string") != std::string::npos);
    o = take({{"image", "data:image/png;base64,AAAA"}}, health({{"image", "accepted"}}));
    CHECK(text_of(o).find("not PNG, JPEG or WebP") != std::string::npos);
    o = take({{"image", url}}, health({{"image", "accepted"}}), task_kind::Video, 100);
    CHECK(text_of(o).find("the limit is 100 bytes") != std::string::npos);
    o = take({{"image", png_url(1, 1)}}, health({{"image", "accepted"}}));
    CHECK(text_of(o).find("at least 2x2") != std::string::npos);
    o = take({{"last_image", url}}, health({{"image", "accepted"}, {"last_image", "accepted"}}));
    CHECK(field_of(o) == "last_image");
    CHECK(text_of(o).find("needs image too") != std::string::npos);
    o = take({{"image", url}, {"last_image", url}}, health({{"image", "accepted"}}));
    CHECK(field_of(o) == "last_image");
    for (const auto &error : {take({{"image", url}}, health(nullptr)).error, take({{"image", 5}}, "").error})
        CHECK((error && error->status == 400));
}

TEST_CASE("before the plugin has answered, images are still checked but the fit is left to the plugin") {
    CHECK_FALSE(take({{"prompt", "p"}}, "").error);
    CHECK_FALSE(take({{"image", png_url()}}, "").error);
    CHECK(take({{"image", "data:text/plain;base64,aGk="}}, "").error);
}

TEST_CASE("other tasks are left alone (their schema names an image field as unknown)") {
    auto o = take({{"image", 5}}, health({{"image", "accepted"}}), task_kind::Image);
    CHECK_FALSE(o.error);
    CHECK(o.body.contains("image"));
}

}
