// request_schemas.h — the built-in field tables of the playground API (reference §1.2, §1.7 and
// the UI ranges of §4), and the mapping between endpoints, tasks and model types.
#pragma once

#include <string>

#include "api/field_schema.h"
#include "core/task.h"

namespace omnihost {

// Playground request fields for a task with their ranges and defaults (without job_id handling
// beyond the pattern check).
const Schema &generation_schema(Task task);

// The part of a generate body the host owns whatever plugin serves it: the task name, the
// prompt (text / messages for TTS, audio and chat), seed and job id. Checked before readiness;
// every other field belongs to the serving plugin's manifest. Null means "not given".
std::optional<FieldError> check_wire_fields(const nlohmann::json &body, Task task);

// OmniConfig plus the in-process settings plus "recipe" (POST /api/omni/start and preview).
const Schema &start_schema();

// Fields allowed in a recipe's "defaults" for one model_type (generation defaults + load
// settings), and in its "hints".
const Schema &recipe_defaults_schema(const std::string &model_type);
const Schema &recipe_hints_schema();

// Recipe default keys that are load settings (they go into the start JSON), as opposed to
// generation defaults (they fill generate requests).
bool is_load_setting(const std::string &key);

// Maps a recipe generation default onto the request field it fills for `task`
// ("steps" -> "num_inference_steps", audio "duration" -> "audio_duration"); same name otherwise.
std::string recipe_key_to_request_field(Task task, const std::string &key);

// The same, asking the serving plugin's manifest first: a parameter whose "alias" (a string or an
// array of strings) names `key` is the field it fills. `task_parameters` is the manifest's
// parameters for the task (an object, possibly empty).
std::string request_field_for_default(Task task, const std::string &key, const nlohmann::json &task_parameters);

// Checks shared by several schemas.
std::string check_job_id(const std::string &value);
extern const char *const kModelTypes[5];
extern const char *const kRunModes[3];

} // namespace omnihost
