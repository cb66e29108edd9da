// Models downloaded on start: a hub id ("org/name[@revision]") that is in none of the places
// resolve_model looks is fetched from the hub into the Hugging Face cache first (hub/), with
// per-file lines on the host's log, the download as the start job's progress ("download" phase)
// and the job's cancel honoured. Downloads are off with HF_HUB_OFFLINE=1 (omnihost --no-download).
#pragma once

#include "instance_core.h"

#include <filesystem>
#include <string>
#include <vector>

namespace omnihost::inprocess {

// Call before resolve_model on start (never on previews). Returns true when it downloaded. The
// instance's state is left alone: a model loaded before stays loaded (and reported) until the
// new one is there.
// Does nothing for paths, for models resolve_model finds, and for paths outside the roots (the
// resolver refuses those itself). Throws plugin_error: INVALID_ARGUMENT naming "model" when the
// model is missing and downloads are off, when it is gated (the message names its page), private
// or unknown; UNAVAILABLE when the download fails (network, checksum, cache); CANCELLED.
bool download_if_missing(const std::string &model, const std::filesystem::path &data_dir,
                         const std::vector<std::filesystem::path> &extra_roots, const std::string &plugin_id,
                         const instance_core &core, const omnihost_job *job);

}  // namespace omnihost::inprocess
