// What the hub says a revision holds, and which of its files a diffusers pipeline needs. Every
// name here comes from the server and is untrusted until safe_repo_path() accepts it.
#pragma once

#include <string>
#include <vector>

namespace omnihost::hub {

struct repo_revision {
    std::string commit;               // the commit sha the revision points at (validated)
    std::vector<std::string> files;   // every rfilename the server listed (not yet filtered)
};

// Parses the answer of GET {endpoint}/api/models/{id}/revision/{revision} (bounded JSON): "sha"
// and "siblings"[].rfilename. Throws hub_error(protocol) for a malformed answer, a missing or
// non-hex commit, or more than 100000 files.
repo_revision parse_revision_info(const std::string &json_text);

// A relative file path safe to create under a snapshot folder: components separated by '/', none
// empty, "." or "..", no leading '/', no '\\' or control characters, at most 1024 bytes.
bool safe_repo_path(const std::string &path);

// A commit sha or ETag used as a file name: [A-Za-z0-9_-], 1..128 characters.
bool safe_cache_name(const std::string &name);

// The files a diffusers pipeline loads: model_index.json, configs, safetensors (and their
// index), tokenizer files. fnmatch patterns, '*' matching '/' too (as huggingface_hub does).
const std::vector<std::string> &pipeline_allow_patterns();

// The files of `all` matching `patterns`, without precision variants (x.fp16.safetensors,
// x.bf16-00001-of-00002.safetensors, ...) in a folder that also has variant-free weights, which
// are what the loaders read. Unsafe paths are refused (hub_error(unsafe)), never skipped silently.
std::vector<std::string> select_files(const std::vector<std::string> &all, const std::vector<std::string> &patterns);

// The component folders a diffusers model_index.json names (keys whose value is a [library,
// class] pair). Throws hub_error(protocol) for a text that is not a JSON object (bounded parse).
std::vector<std::string> pipeline_components(const std::string &model_index_json);

// `files` restricted to what DiffusionPipeline.download takes: the top-level model_index.json,
// config.json and scheduler_config.json, and files inside the named component folders (so a
// repository's original single-file checkpoint beside the diffusers folders is not fetched).
std::vector<std::string> restrict_to_components(const std::vector<std::string> &files,
                                                const std::vector<std::string> &components);

}  // namespace omnihost::hub
