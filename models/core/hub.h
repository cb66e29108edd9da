// Where a model lives: a local diffusers folder, or a Hugging Face hub id ("Wan-AI/Wan2.1-T2V-1.3B-Diffusers")
// already present in the standard Hugging Face cache. Nothing is downloaded here (hub/ does that).
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <vector>

namespace omnihost::models {

// The cache roots searched for hub ids, in order, without duplicates: $HF_HUB_CACHE,
// $HF_HOME/hub, $XDG_CACHE_HOME/huggingface/hub, ~/.cache/huggingface/hub.
std::vector<std::filesystem::path> hf_cache_roots();

// True when `model` is a well-formed hub id "org/name" or "org/name@revision": org and name of
// [A-Za-z0-9._-] (not starting with '.' or '-', no ".."), a revision of [A-Za-z0-9._-/] without
// ".." or a leading '/' or '.'. Only such ids are ever turned into cache paths.
bool is_hub_model_id(const std::string &model);

// A well-formed hub id in parts (revision "main" unless "@revision" was given); nullopt when
// is_hub_model_id(model) is false. For the downloader, which names the same cache folders.
struct hub_id_parts {
    std::string org, name, revision;
    bool explicit_revision = false;
};
std::optional<hub_id_parts> parse_hub_id(const std::string &model);

// Looks a hub id up in the Hugging Face cache only (never as a local path):
// <root>/models--org--name/snapshots/<rev>, where <rev> comes from refs/<revision or main>; without
// a usable ref, the newest snapshot is taken. Throws model_error listing every place it looked,
// or naming the id when it is not well formed.
std::filesystem::path resolve_hub_model(const std::string &hub_id);

// Resolves `model` to a folder:
//  - an existing directory is returned as is;
//  - otherwise a hub id is looked up with resolve_hub_model.
// Throws model_error listing every place it looked when nothing is found. Callers serving requests
// must confine the result to their model roots themselves (see the video_diffusion plugin).
std::filesystem::path resolve_model_path(const std::string &model);

}  // namespace omnihost::models
