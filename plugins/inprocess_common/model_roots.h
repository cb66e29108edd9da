// Where a requested model may be loaded from, for every in-process plugin. The start request's
// "model" comes from HTTP, so it resolves only inside the operator's model roots: data_dir, the
// Hugging Face cache roots, the create config's "model_roots" and $OMNIHOST_MODEL_ROOTS,
// canonicalised so links and '..' cannot escape, with no current-directory fallback. This is
// security code: it exists once, here.
#pragma once

#include "inprocess_error.h"

#include <filesystem>
#include <string>
#include <vector>

namespace omnihost::inprocess {

// The folders a requested model may resolve into, canonical (symlinks and '..' resolved):
// data_dir, the Hugging Face cache roots, then `extra` (operator-set roots). Roots that do not
// exist are kept in their lexically normal absolute form (a later-created folder still counts).
std::vector<std::filesystem::path> allowed_model_roots(const std::filesystem::path &data_dir,
                                                       const std::vector<std::filesystem::path> &extra);

// resolve_model's refusal of a model outside the allowed roots (INVALID_ARGUMENT naming "model").
struct model_outside_roots : plugin_error {
    using plugin_error::plugin_error;
};

struct resolved_model {
    std::filesystem::path dir;  // canonical, inside one of the allowed roots
    // How outputs name the model, never a local absolute path: the hub id, the path as given when
    // it is a plain relative one, or the folder relative to its root ("org/name" for a folder in
    // the Hugging Face cache).
    std::string label;
};

// Resolves the model: an absolute directory; a path relative to data_dir (then to each extra
// root); or a Hugging Face hub id in the HF cache. The result must lie inside
// allowed_model_roots() after symlinks and '..' are resolved. Throws plugin_error
// INVALID_ARGUMENT naming "model": for a path outside the roots one fixed message (the same
// whether or not it exists, so requests cannot probe the file system; it names
// plugin_config.<plugin_id>.model_roots), otherwise a list of the places it looked inside the roots.
resolved_model resolve_model(const std::string &model, const std::filesystem::path &data_dir,
                             const std::vector<std::filesystem::path> &extra_roots, const std::string &plugin_id);

}  // namespace omnihost::inprocess
