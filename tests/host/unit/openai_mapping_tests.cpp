// The OpenAI-style request mapping (host/openai/openai_mapping.h): names translated, nothing
// else decided; the manifest decides ranges. Plans here are hand-made StartPlans.
#include <doctest/doctest.h>

#include "openai/openai_mapping.h"
#include "slot/runtime_slot.h"

using namespace omnihost;
using namespace omnihost::openai;
using nlohmann::json;

namespace {

start_plan plan_with(json video_parameters) {
    start_plan plan;
    plan.model = "org/model";
    plan.recipe_id = "my-recipe";
    plan.model_type = "video";
    plan.plugin_parameters = {{"video", std::move(video_parameters)}};
    return plan;
}

} // namespace

TEST_SUITE("openai_mapping") {

TEST_CASE("videos: seconds and size become duration and width/height; num_frames follows the manifest") {
    const start_plan with_frames = plan_with({{"num_frames", {{"type", "integer"}}}});
    const start_plan without_frames = plan_with({{"fps", {{"type", "integer"}}}});
    json out;
    REQUIRE_FALSE(map_video_request({{"prompt", "p"}, {"seconds", "3"}, {"size", "640x480"}, {"fps", 8}}, &with_frames, out));
    CHECK(out == json({{"prompt", "p"}, {"duration", 3}, {"width", 640}, {"height", 480}, {"fps", 8}}));
    REQUIRE_FALSE(map_video_request({{"prompt", "p"}, {"num_frames", 33}}, &with_frames, out));
    CHECK(out["num_frames"] == 33);
    // Without num_frames in the manifest: a count equal to seconds x fps is redundant and dropped...
    REQUIRE_FALSE(map_video_request({{"prompt", "p"}, {"seconds", "2"}, {"fps", 8}, {"num_frames", 16}}, &without_frames, out));
    CHECK_FALSE(out.contains("num_frames"));
    // ...any other is refused, naming it.
    auto error = map_video_request({{"prompt", "p"}, {"seconds", "2"}, {"fps", 8}, {"num_frames", 17}}, &without_frames, out);
    REQUIRE(error);
    CHECK(error->field == "num_frames");
    for (const char *bad : {"0", "1.5", "-2", "soon"}) {
        CAPTURE(bad);
        error = map_video_request({{"prompt", "p"}, {"seconds", bad}}, &with_frames, out);
        REQUIRE(error);
        CHECK(error->field == "seconds");
    }
    error = map_video_request({{"prompt", "p"}, {"size", "640*480"}}, &with_frames, out);
    REQUIRE(error);
    CHECK(error->field == "size");
    // Unknown fields are passed on for the validator to name.
    REQUIRE_FALSE(map_video_request({{"prompt", "p"}, {"wobble", 1}}, &with_frames, out));
    CHECK(out["wobble"] == 1);
}

TEST_CASE("image inputs of videos, and refusals named in the client's terms") {
    const start_plan plan = plan_with(json::object());
    json out;
    REQUIRE_FALSE(map_video_request({{"prompt", "p"}, {"image_reference", {{"image_url", "data:image/png;base64,AAAA"}}}}, &plan, out));
    CHECK(out["image"] == "data:image/png;base64,AAAA");
    REQUIRE_FALSE(map_video_request({{"prompt", "p"}, {"input_reference", "data:image/jpeg;base64,BBBB"}}, &plan, out));
    CHECK(out["image"] == "data:image/jpeg;base64,BBBB");
    auto error = map_video_request({{"prompt", "p"}, {"input_reference", "x"}, {"image_reference", {{"image_url", "data:image/png;base64,A"}}}},
                                   &plan, out);
    REQUIRE(error);
    CHECK(error->field == "image_reference");
    const api_error renamed = in_client_terms({{"input", "hi"}, {"size", "9x9"}}, {400, "width: must be at least 16", "width"});
    CHECK(renamed.field == "size");
    CHECK(renamed.message == "size (width): must be at least 16");
    CHECK(in_client_terms({{"prompt", "p"}}, {400, "seed: bad", "seed"}).field == "seed");
    CHECK(in_client_terms(json::object(), {400, "text: is required", "text"}).field == "input");
}

TEST_CASE("model field: the loaded model or its recipe, else 404 naming model") {
    const start_plan plan = plan_with(json::object());
    CHECK_FALSE(check_model_field({{"model", "org/model"}}, &plan));
    CHECK_FALSE(check_model_field({{"model", "my-recipe"}}, &plan));
    CHECK_FALSE(check_model_field(json::object(), &plan));
    const auto error = check_model_field({{"model", "someone/else"}}, &plan);
    REQUIRE(error);
    CHECK(error->status == 404);
    CHECK(error->field == "model");
}

TEST_CASE("form values: numbers where the field is not free text") {
    CHECK(form_value("fps", "16") == 16);
    CHECK(form_value("guidance_scale", "4.5") == 4.5);
    CHECK(form_value("enable_frame_interpolation", "true") == true);
    CHECK(form_value("prompt", "42") == "42");
    CHECK(form_value("seconds", "4") == "4");
    CHECK(form_value("fps", "16fps") == "16fps");
}

TEST_CASE("audio, speech, images and diffusion chat") {
    json out;
    REQUIRE_FALSE(map_audio_request({{"input", "rain"}, {"audio_length", 3.5}, {"audio_start", 0.0}}, nullptr, out));
    CHECK(out == json({{"text", "rain"}, {"audio_duration", 3.5}}));
    auto error = map_audio_request({{"input", "x"}, {"response_format", "mp3"}}, nullptr, out);
    REQUIRE(error);
    CHECK(error->field == "response_format");
    REQUIRE_FALSE(map_speech_request({{"input", "hi"}, {"voice", "Vivian"}}, out));
    CHECK(out == json({{"text", "hi"}, {"voice", "Vivian"}}));
    REQUIRE_FALSE(map_image_request({{"prompt", "p"}, {"size", "32x16"}, {"n", 1}}, out));
    CHECK(out == json({{"prompt", "p"}, {"width", 32}, {"height", 16}}));
    REQUIRE_FALSE(map_diffusion_chat_request(
        {{"messages", json::array({{{"role", "system"}, {"content", "ignored"}},
                                   {{"role", "user"},
                                    {"content", json::array({{{"type", "text"}, {"text", "a cat"}},
                                                             {{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64,AAAA"}}}}})}}})},
         {"extra_body", {{"size", "64x32"}, {"seed", 3}}},
         {"num_inference_steps", 4}},
        out));
    CHECK(out == json({{"prompt", "a cat"}, {"input_image", "data:image/png;base64,AAAA"}, {"width", 64}, {"height", 32},
                       {"seed", 3}, {"num_inference_steps", 4}}));
    error = map_diffusion_chat_request(
        {{"messages", json::array({{{"role", "user"}, {"content", json::array({{{"type", "image_url"}, {"image_url", {{"url", "http://x/y.png"}}}}})}}})}},
        out);
    REQUIRE(error);
    CHECK(error->field == "messages");
}

}
