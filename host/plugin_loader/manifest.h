// Plugin manifests: the <id>.plugin.json file beside each plugin library. The host lists and routes
// plugins from manifests alone; the library is loaded only to validate it and to run it.
//
// Format (fields in <>, optional ones marked ?):
//   {"id":"video_diffusion", "name":"...", "version":"0.1.0", "abi":{"major":1,"minor":0},
//    "library":"libvideo_diffusion.so", "kind":"inprocess"|"proxy",
//    "routes":[{"model_type":"video","run_mode":"subprocess"}],
//    "refuses"?:[{"model_type":"video","run_mode":"container","reason":"..."}],
//    "tasks":["video"], "parameters"?:{"<scope>":{"<field>":{"type":"integer","min":..,...}}},
//    "description"?: "..."}
// A parameter scope is a task, "*" (every task) or "start" (start settings). A field schema:
//   type (integer|number|string|boolean|array|object), min, max (numbers), min_length, max_length
//   (strings), multiple_of (integers), enum (strings), format (url|device|gpu_list|no_control),
//   default, required, nullable, operator (true: set by the operator's config or a recipe, never
//   by a request), alias (other names, e.g. "steps" for num_inference_steps: recipe keys and
//   request fields), and for the UI only: label, help, description, group, step, choices, ui.
// The host checks every request against these and hands the plugin values already defaulted.
// model_type: video, audio, image, tts, omni. run_mode: subprocess, container, remote.
// task: video, audio, image, tts, chat. id: [a-z0-9_]{1,64}.
#pragma once

#include "loader_error.h"

#include <nlohmann/json.hpp>

#include <filesystem>
#include <string>
#include <string_view>
#include <vector>

namespace omnihost::plugin_loader {

struct plugin_route {
    std::string model_type;
    std::string run_mode;
};

struct plugin_refusal {
    std::string model_type;
    std::string run_mode;
    std::string reason;
};

struct plugin_manifest {
    std::string id;
    std::string name;
    std::string version;
    std::string description;
    uint32_t abi_major = 0;
    uint32_t abi_minor = 0;
    std::string library;  // as written in the manifest
    std::string kind;     // "inprocess" | "proxy"
    std::vector<plugin_route> routes;
    std::vector<plugin_refusal> refuses;
    std::vector<std::string> tasks;
    nlohmann::json parameters = nlohmann::json::object();
    nlohmann::json raw;  // the whole manifest as read

    std::filesystem::path manifest_path;  // the .plugin.json file
    std::filesystem::path library_path;   // `library` resolved against the manifest's folder

    bool serves(std::string_view model_type, std::string_view run_mode) const;
    const plugin_refusal *refusal_for(std::string_view model_type, std::string_view run_mode) const;
};

// Reads and validates a manifest file. Throws loader_error (kind manifest); what() names the file
// and the field, e.g. "plugins/x.plugin.json: field 'routes[1].run_mode': must be one of subprocess,
// container, remote".
plugin_manifest parse_manifest_file(const std::filesystem::path &file);

// Validates manifest text; `origin` is the path used in messages and to resolve `library`.
plugin_manifest parse_manifest_text(std::string_view text, const std::filesystem::path &origin);

// The vocabularies (for other validators, e.g. recipes).
bool is_model_type(std::string_view s);  // video, audio, image, tts, omni
bool is_run_mode(std::string_view s);    // subprocess, container, remote
bool is_task(std::string_view s);        // video, audio, image, tts, chat

}  // namespace omnihost::plugin_loader
