// Downloads a Hugging Face hub model into the standard cache layout, as huggingface_hub's
// snapshot_download does (the same folders, so either tool finds what the other wrote):
//   GET  {endpoint}/api/models/{id}/revision/{revision}   file list and commit sha
//   HEAD {endpoint}/{id}/resolve/{commit}/{path}          ETag (X-Linked-Etag for LFS), size,
//                                                          redirect to where LFS bytes live
//   GET  that place, with Range to resume a partial file
// Only the files a diffusers pipeline needs (pipeline_allow_patterns). Honours HF_ENDPOINT,
// HF_TOKEN (or HUGGING_FACE_HUB_TOKEN), HF_HUB_CACHE / HF_HOME and HF_HUB_OFFLINE.
#pragma once

#include "hub_error.h"
#include "hub_repo.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace omnihost::hub {

struct download_progress {
    std::string file;        // path in the repository
    int file_index = 0;      // 1-based, of file_count
    int file_count = 0;
    uint64_t file_done = 0;  // bytes of this file so far
    uint64_t file_size = 0;  // 0 when the hub did not say
    uint64_t done = 0;       // bytes of every file so far (files already cached count)
    uint64_t total = 0;
};

enum class log_level { debug, info, warn };

struct download_options {
    std::string endpoint;              // "" = $HF_ENDPOINT, else https://huggingface.co
    std::string token;                 // "" = $HF_TOKEN, else $HUGGING_FACE_HUB_TOKEN
    std::filesystem::path cache_dir;   // "" = the first of models::hf_cache_roots() (HF_HUB_CACHE, HF_HOME/hub, ...)
    std::vector<std::string> allow_patterns = pipeline_allow_patterns();
    int attempts = 5;                  // per file; each broken connection resumes where it stopped
    int timeout_s = 60;                // connect / read inactivity
    std::function<void(const download_progress &)> progress;  // often (every chunk): throttle in it
    std::function<void(log_level, const std::string &)> log;  // one line per file, retries, warnings
    std::function<bool()> is_cancelled;                        // checked between chunks
};

// True when HF_HUB_OFFLINE is set to 1/true/yes/on (the host's --no-download sets it).
bool downloads_forbidden();

// The endpoint in use: options.endpoint, $HF_ENDPOINT or https://huggingface.co, without a
// trailing '/'.
std::string resolve_endpoint(const std::string &configured);

// Downloads `model_id` ("org/name" or "org/name@revision") and returns its snapshot folder
// (<cache>/models--org--name/snapshots/<commit>). Files already in blobs/ are not fetched again;
// refs/<revision> is written last. Throws hub_error: offline when downloads_forbidden(), gated
// (the message names the model's page), integrity (nothing of that file is kept and the snapshot
// is not created), cancelled (partial files kept for resuming), and the others of hub_error.h.
std::filesystem::path download_model(const std::string &model_id, const download_options &options);

}  // namespace omnihost::hub
