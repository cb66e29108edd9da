// settings_store.h — UI settings the host keeps for every browser (GET/POST /api/settings):
// run mode, remote URL, port, venv, GPU, model type. Never secrets. One JSON file in the data dir,
// replaced atomically (temp file, fsync, rename, fsync of the folder) on every change.
#pragma once

#include <filesystem>
#include <mutex>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "core/field_schema.h"

namespace omnihost {

class settings_store {
public:
    // Loads `file` when it exists; an unreadable or corrupt one is kept as <file>.bak and the
    // defaults are used (load_problem() says why).
    explicit settings_store(std::filesystem::path file);

    // Every key, defaults filled in, plus "updated_at" (ISO 8601 UTC of the last save, null when
    // nothing was ever saved: a page can tell a first visit from saved defaults).
    nlohmann::json get() const;

    // Merges a partial object (null = leave unchanged) after checking every field; writes the
    // file. Returns the field error, or nullopt with the merged settings in `merged`.
    std::optional<field_error> update(nlohmann::json partial, nlohmann::json &merged, std::string &write_error);

    const std::string &load_problem() const { return load_problem_; }
    static const field_schema &schema();

private:
    std::filesystem::path file_;
    mutable std::mutex mutex_;
    nlohmann::json values_ = nlohmann::json::object(); // only keys that were set
    std::string updated_at_;
    nlohmann::json with_defaults() const; // values_ + defaults + updated_at; mutex held
    std::string load_problem_;
};

// Writes `text` to `file` so a reader sees the old or the new content, never a mix:
// <file>.tmp-<pid>, fsync, rename over `file`, fsync of the folder. Returns "" or the error.
std::string write_file_atomically(const std::filesystem::path &file, const std::string &text);

} // namespace omnihost
