#include "api/image_inputs.h"

#include "common/json_limits.h"
#include "media/image_decode.h"
#include "media/media_error.h"

namespace omnihost {
namespace {

std::string mode_of(const nlohmann::json &modes, const std::string &field) {
    if (!modes.is_object() || !modes.contains(field) || !modes[field].is_string()) return "refused";
    const std::string value = modes[field].get<std::string>();
    return value == "required" || value == "accepted" ? value : "refused";
}

bool given(const nlohmann::json &body, const char *field) {
    return body.contains(field) && !body[field].is_null();
}

} // namespace

nlohmann::json image_input_modes(const std::string &health_json) {
    if (health_json.empty()) return nullptr;
    const nlohmann::json health = parse_json_bounded_or_discarded(health_json, {16, 1u << 20});
    if (!health.is_object()) return nullptr;
    const nlohmann::json declared = health.value("image_input", nlohmann::json::object());
    nlohmann::json modes = nlohmann::json::object();
    for (const char *field : kImageFields) modes[field] = mode_of(declared, field);
    return modes;
}

std::optional<api_error> take_image_inputs(nlohmann::json &body, task_kind task, const std::string &health_json,
                                          const std::string &model, const operator_limits &limits,
                                          nlohmann::json &taken) {
    taken = nlohmann::json::object();
    if (task != task_kind::Video) return std::nullopt; // other tasks: the schema refuses the field by name
    const nlohmann::json modes = image_input_modes(health_json);
    for (const char *field : kImageFields) {
        const std::string name = field;
        if (!given(body, field)) {
            body.erase(name);
            if (!modes.is_null() && mode_of(modes, name) == "required")
                return api_error{400, name + ": the loaded model (" + model + ") needs an input image; send " + name +
                                         " as a data URL or base64 (PNG, JPEG or WebP)",
                                name};
            continue;
        }
        if (!body[name].is_string())
            return api_error{400, name + ": must be a string (a data: URL or base64 of a PNG, JPEG or WebP image)", name};
        if (!modes.is_null() && mode_of(modes, name) == "refused")
            return api_error{400, name + ": the loaded model (" + model + ") takes no " +
                                     (name == "image" ? "input image (it is text-to-video)" : "last frame image"),
                            name};
        try {
            const media::image_payload payload =
                media::decode_image_payload(body[name].get_ref<const std::string &>(), size_t(limits.max_image_bytes));
            const media::image_decode_limits decode_limits{size_t(limits.max_image_bytes), kMaxInputImageSide,
                                                           kMaxInputImageSide};
            const media::decoded_image image = media::decode_image(payload.bytes.data(), payload.bytes.size(), decode_limits);
            if (image.width < 2 || image.height < 2)
                return api_error{400, name + ": the image is " + std::to_string(image.width) + "x" +
                                         std::to_string(image.height) + " pixels; it must be at least 2x2",
                                name};
        } catch (const media::media_error &e) {
            return api_error{400, name + ": " + e.what(), name};
        }
        taken[name] = std::move(body[name]);
        body.erase(name);
    }
    if (taken.contains("last_image") && !taken.contains("image"))
        return api_error{400, "last_image: needs image too (the first frame)", "last_image"};
    return std::nullopt;
}

void restore_image_inputs(nlohmann::json &request, const nlohmann::json &taken) {
    for (const auto &[field, value] : taken.items()) request[field] = value;
}

} // namespace omnihost
