#include "core/task.h"

namespace omnihost {

const char *task_name(task_kind task) {
    switch (task) {
    case task_kind::Image: return "image";
    case task_kind::Video: return "video";
    case task_kind::Audio: return "audio";
    case task_kind::Tts: return "tts";
    case task_kind::Chat: return "chat";
    }
    return "?";
}

const char *task_model_type(task_kind task) {
    switch (task) {
    case task_kind::Image: return "image";
    case task_kind::Video: return "video";
    case task_kind::Audio: return "audio";
    case task_kind::Tts: return "tts";
    case task_kind::Chat: return "omni";
    }
    return "?";
}

task_kind task_for_model_type(const std::string &model_type) {
    if (model_type == "video") return task_kind::Video;
    if (model_type == "audio") return task_kind::Audio;
    if (model_type == "tts") return task_kind::Tts;
    if (model_type == "omni") return task_kind::Chat;
    return task_kind::Image;
}

const char *model_type_article(const std::string &model_type) {
    if (model_type == "audio") return "an audio";
    if (model_type == "image") return "an image";
    if (model_type == "omni") return "an omni";
    if (model_type == "tts") return "a TTS";
    return "a video";
}

} // namespace omnihost
