// task.h — the generate-style tasks and their model types: the vocabulary the API layer, the
// runtime slot, the job queue and the recipes share. Below every other host folder; includes none.
#pragma once

#include <string>

namespace omnihost {

// One generate-style endpoint. task_name() is the "task" value plugins receive.
enum class task_kind { Image, Video, Audio, Tts, Chat };

const char *task_name(task_kind task);            // "image", "video", "audio", "tts", "chat"
const char *task_model_type(task_kind task);      // image, video, audio, tts, omni
const char *model_type_article(const std::string &model_type); // "an audio", "a video", ...
task_kind task_for_model_type(const std::string &model_type);       // omni -> chat; unknown -> image

} // namespace omnihost
