// Where a model lives: a local diffusers folder, or a Hugging Face hub id ("Wan-AI/Wan2.1-T2V-1.3B-Diffusers")
// already present in the standard Hugging Face cache. Nothing is downloaded.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace omnihost::models {

// The cache roots searched for hub ids, in order, without duplicates: $HF_HUB_CACHE,
// $HF_HOME/hub, $XDG_CACHE_HOME/huggingface/hub, ~/.cache/huggingface/hub.
std::vector<std::filesystem::path> hf_cache_roots();

// Resolves `model` to a folder:
//  - an existing directory is returned as is;
//  - "org/name" (optionally "org/name@revision") is looked up as
//    <root>/models--org--name/snapshots/<rev>, where <rev> comes from refs/<revision or main>;
//    without a usable ref, the only snapshot (or the newest one) is taken.
// Throws model_error listing every place it looked when nothing is found.
std::filesystem::path resolve_model_path(const std::string &model);

}  // namespace omnihost::models
