// The Hugging Face cache layout, written the way huggingface_hub writes it:
//   <cache>/models--<org>--<name>/blobs/<etag>                 file contents, named by ETag
//   <cache>/models--<org>--<name>/snapshots/<commit>/<path>    relative symlinks into blobs
//   <cache>/models--<org>--<name>/refs/<revision>              the commit a branch points at
// A snapshot folder appears complete or not at all (built beside it, then renamed), and the ref
// is written last, so a reader never takes a half-downloaded model for a model.
#pragma once

#include <filesystem>
#include <string>
#include <utility>
#include <vector>

namespace omnihost::hub {

// <cache>/models--<org>--<name>
std::filesystem::path repo_folder(const std::filesystem::path &cache, const std::string &org, const std::string &name);

// Creates `dir` (and parents) as real folders; a symlink anywhere from `base` down to `dir` is
// refused with hub_error(unsafe), so nothing the server names can be written through a link.
void make_real_dirs(const std::filesystem::path &base, const std::filesystem::path &dir);

// Makes snapshots/<commit>/<path> -> ../(..)/blobs/<etag> for every (path, etag). Paths and
// names must already have passed safe_repo_path / safe_cache_name. Throws hub_error(io|unsafe).
void write_snapshot(const std::filesystem::path &repo, const std::string &commit,
                    const std::vector<std::pair<std::string, std::string>> &path_etags);

// refs/<revision> = commit, atomically (temporary file + rename).
void write_ref(const std::filesystem::path &repo, const std::string &revision, const std::string &commit);

}  // namespace omnihost::hub
