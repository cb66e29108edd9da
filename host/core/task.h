// task.h — the generate-style tasks and their model types: the vocabulary the API layer, the
// runtime slot, the job queue and the recipes share. Below every other host folder; includes none.
#pragma once

#include <string>

namespace omnihost {

// One generate-style endpoint. task_name() is the "task" value plugins receive.
enum class Task { Image, Video, Audio, Tts, Chat };

const char *task_name(Task task);            // "image", "video", "audio", "tts", "chat"
const char *task_model_type(Task task);      // image, video, audio, tts, omni
const char *model_type_article(const std::string &model_type); // "an audio", "a video", ...
Task task_for_model_type(const std::string &model_type);       // omni -> chat; unknown -> image

} // namespace omnihost
