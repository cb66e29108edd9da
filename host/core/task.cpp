#include "core/task.h"

namespace omnihost {

const char *task_name(Task task) {
    switch (task) {
    case Task::Image: return "image";
    case Task::Video: return "video";
    case Task::Audio: return "audio";
    case Task::Tts: return "tts";
    case Task::Chat: return "chat";
    }
    return "?";
}

const char *task_model_type(Task task) {
    switch (task) {
    case Task::Image: return "image";
    case Task::Video: return "video";
    case Task::Audio: return "audio";
    case Task::Tts: return "tts";
    case Task::Chat: return "omni";
    }
    return "?";
}

Task task_for_model_type(const std::string &model_type) {
    if (model_type == "video") return Task::Video;
    if (model_type == "audio") return Task::Audio;
    if (model_type == "tts") return Task::Tts;
    if (model_type == "omni") return Task::Chat;
    return Task::Image;
}

const char *model_type_article(const std::string &model_type) {
    if (model_type == "audio") return "an audio";
    if (model_type == "image") return "an image";
    if (model_type == "omni") return "an omni";
    if (model_type == "tts") return "a TTS";
    return "a video";
}

} // namespace omnihost
