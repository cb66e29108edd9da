#include "api/operator_limits.h"

#include <cmath>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

namespace omnihost {
namespace {

std::string format(double value) {
    std::ostringstream out;
    out << value;
    return out.str();
}

// The limits by the name a start parameter (and the option, with dashes) carries.
std::vector<std::pair<std::string, double>> named_limits(const operator_limits &limits) {
    return {{"max_frames", static_cast<double>(limits.max_frames)},
            {"max_pixels", static_cast<double>(limits.max_pixels)},
            {"max_steps", static_cast<double>(limits.max_steps)},
            {"max_duration", limits.max_duration},
            {"max_samples", static_cast<double>(limits.max_samples)}};
}

std::string option_of(std::string name) {
    for (auto &c : name)
        if (c == '_') c = '-';
    return "--" + name;
}

api_error over(const std::string &field, const std::string &what, double limit, const std::string &limit_name) {
    return {400, field + ": " + what + " is over this host's limit of " + format(limit) +
                     " (set by the operator with " + option_of(limit_name) + ")",
            field};
}

std::optional<double> number_at(const nlohmann::json &object, const char *key) {
    auto it = object.find(key);
    if (it == object.end() || !it->is_number()) return std::nullopt;
    return it->get<double>();
}

} // namespace

std::optional<api_error> check_generation_limits(const nlohmann::json &request, const operator_limits &limits) {
    if (!request.is_object()) return std::nullopt;
    if (auto steps = number_at(request, "num_inference_steps"); steps && *steps > limits.max_steps)
        return over("num_inference_steps", format(*steps) + " steps", limits.max_steps, "max_steps");
    const auto height = number_at(request, "height");
    const auto width = number_at(request, "width");
    if (height && width && *height * *width > static_cast<double>(limits.max_pixels))
        return over("height", format(*height) + "x" + format(*width) + " = " + format(*height * *width) + " pixels",
                    static_cast<double>(limits.max_pixels), "max_pixels");
    for (const char *key : {"duration", "audio_duration"}) {
        if (auto seconds = number_at(request, key); seconds && *seconds > limits.max_duration)
            return over(key, format(*seconds) + " s", limits.max_duration, "max_duration");
    }
    if (auto frames = number_at(request, "num_frames")) {
        if (*frames > static_cast<double>(limits.max_frames))
            return over("num_frames", format(*frames) + " frames", static_cast<double>(limits.max_frames), "max_frames");
    } else if (auto duration = number_at(request, "duration"), fps = number_at(request, "fps"); duration && fps) {
        const double count = std::ceil(*duration * *fps);
        if (count > static_cast<double>(limits.max_frames))
            return over("duration", format(*duration) + " s at " + format(*fps) + " fps = " + format(count) + " frames",
                        static_cast<double>(limits.max_frames), "max_frames");
    }
    for (const char *key : {"num_outputs_per_prompt", "num_images_per_prompt", "num_videos_per_prompt",
                            "num_waveforms_per_prompt", "num_samples", "batch_size"}) {
        if (auto count = number_at(request, key); count && *count > static_cast<double>(limits.max_samples))
            return over(key, format(*count) + " outputs", static_cast<double>(limits.max_samples), "max_samples");
    }
    for (const auto &[name, limit] : named_limits(limits)) {
        if (auto asked = number_at(request, name.c_str()); asked && *asked > limit)
            return over(name, format(*asked), limit, name);
    }
    return std::nullopt;
}

std::optional<api_error> apply_start_limits(nlohmann::json &start_json, const nlohmann::json &request,
                                           const nlohmann::json &plugin_start_parameters,
                                           const operator_limits &limits) {
    for (const auto &[name, limit] : named_limits(limits)) {
        if (auto asked = number_at(request, name.c_str()); asked && *asked > limit)
            return over(name, format(*asked), limit, name);
    }
    if (!plugin_start_parameters.is_object()) return std::nullopt;
    for (const auto &[name, limit] : named_limits(limits)) {
        if (!plugin_start_parameters.contains(name)) continue;
        if (number_at(request, name.c_str())) continue; // asked for less: keep it
        const bool integral = std::floor(limit) == limit;
        start_json[name] = integral ? nlohmann::json(static_cast<int64_t>(limit)) : nlohmann::json(limit);
    }
    return std::nullopt;
}

nlohmann::json limits_json(const operator_limits &limits) {
    return {{"max_frames", limits.max_frames},
            {"max_pixels", limits.max_pixels},
            {"max_steps", limits.max_steps},
            {"max_duration", limits.max_duration},
            {"max_samples", limits.max_samples},
            {"max_image_bytes", limits.max_image_bytes}};
}

} // namespace omnihost
