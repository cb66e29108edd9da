// request_schemas.h — the wire contract the host owns (task, prompt, seed, job id; the routing
// fields of a start), the mapping between endpoints, tasks and model types, and how a recipe's
// defaults are read against the serving plugin's manifest. Every other parameter, of a start or
// of a task, is the serving plugin's: its manifest "parameters" are the only schema for it.
#pragma once

#include <string>
#include <vector>

#include "core/field_schema.h"
#include "core/task.h"

namespace omnihost {

// The host-owned fields of a generate body for a task: the prompt (prompt for image and video,
// text for audio and TTS, messages for chat), seed (image, video, audio) and job_id. The serving
// plugin's manifest adds every other field (task_schema); it may restate these to narrow them.
const field_schema &generation_schema(task_kind task);

// generation_schema(task) with the manifest's "*" and <task> parameters laid over it: the whole
// schema of a generate body for the plugin that serves it. Malformed manifest entries (the loader
// already refuses them) are reported through `problems`.
field_schema task_schema(task_kind task, const nlohmann::json &manifest_parameters, std::vector<std::string> *problems = nullptr);

// The part of a generate body the host owns whatever plugin serves it (the fields above and the
// task name), checked before readiness. Null means "not given".
std::optional<field_error> check_wire_fields(const nlohmann::json &body, task_kind task);

// The host-owned fields of POST /api/omni/start and /command-preview: recipe, model, model_type,
// run_mode. Every start setting besides them is the serving plugin's (its manifest "start").
const field_schema &start_schema();

// start_schema() with the manifest's "start" parameters laid over it.
field_schema start_schema_for(const nlohmann::json &manifest_parameters, std::vector<std::string> *problems = nullptr);

// A recipe's defaults sorted by the serving plugin's manifest, under the names the plugin uses:
// a key that names (or is an alias of) one of its task parameters ("*" included) fills generate
// requests; one of its "start" parameters goes into the start JSON; any other is not the plugin's.
struct recipe_defaults {
    nlohmann::json generation = nlohmann::json::object();
    nlohmann::json start = nlohmann::json::object();
    std::vector<std::string> foreign; // recipe keys the plugin does not declare
    // recipe key -> the parameter it fills, for messages ("defaults.steps")
    std::map<std::string, std::string> source;
};
recipe_defaults split_recipe_defaults(const nlohmann::json &defaults, task_kind task, const nlohmann::json &manifest_parameters);

// The request field a recipe default fills: the task parameter named `key`, or the one whose
// "alias" (a string or an array of strings) names it; `key` itself when none does.
// `task_parameters` is the manifest's parameters for the task (an object, possibly empty).
std::string request_field_for_default(task_kind task, const std::string &key, const nlohmann::json &task_parameters);

// Checks shared by several schemas.
std::string check_job_id(const std::string &value);
extern const char *const kModelTypes[5];
extern const char *const kRunModes[3];

} // namespace omnihost
