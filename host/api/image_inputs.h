// image_inputs.h — the still images a video request may carry: "image" (the first frame, or the
// picture an image-to-video model starts from) and "last_image" (first-last-frame models). Each is
// a data URL (data:image/png|jpeg|webp;base64,...) or plain base64.
//
// What the loaded model takes is its plugin's to say, after load, in its health answer:
//   "image_input": {"image": "required"|"accepted"|"refused", "last_image": ...}
// (a text-to-video checkpoint refuses, TI2V accepts, an I2V checkpoint requires). A plugin that
// says nothing takes no image. Until the first health answer arrives (about a second after load)
// the host cannot know, so it checks the images themselves and leaves the fit to the plugin,
// which refuses a misfit itself.
//
// The host checks every given image fully (decoded with FFmpeg, --max-image-bytes, a pixel
// ceiling) so a corrupt or oversized picture is a 400 naming the field before any model work;
// the text is forwarded to the plugin unchanged, and the plugin names each input image's SHA-256
// in the result's metadata ("input_image_sha256", "input_last_image_sha256").
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "api/http_io.h"
#include "config/host_options.h"
#include "api/request_schemas.h"

namespace omnihost {

// The request fields that carry images, in the order they are checked.
inline constexpr const char *kImageFields[] = {"image", "last_image"};

// Input images larger than this on either side are refused before decoding (the pipelines
// resize to at most a few thousand pixels; this only bounds the decoder's memory).
inline constexpr int kMaxInputImageSide = 8192;

// The loaded model's "image_input" object from its health answer ({"image": "...", ...}), or null
// when the plugin has not answered yet. A plugin that answered without one gets every field
// "refused". Only "required", "accepted" and "refused" are kept; other values read as refused.
nlohmann::json image_input_modes(const std::string &health_json);

// Removes the image fields from `body` into `taken` (so the manifest schema never sees them) after
// checking them: a string, decodable, within the limits, and fitting what the loaded model takes
// (`health_json` of the ready slot, `model` names it in messages). Returns the 400 naming the field.
std::optional<api_error> take_image_inputs(nlohmann::json &body, task_kind task, const std::string &health_json,
                                          const std::string &model, const operator_limits &limits,
                                          nlohmann::json &taken);

// Puts the fields taken above back into the request handed to the plugin.
void restore_image_inputs(nlohmann::json &request, const nlohmann::json &taken);

} // namespace omnihost
