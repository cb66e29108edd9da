#include "model_download.h"

#include "inprocess_error.h"
#include "model_roots.h"

#include "core/hub.h"
#include "hub_download.h"

#include <algorithm>
#include <cstdio>

namespace omnihost::inprocess {
namespace {

std::string mib(uint64_t bytes) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%.1f", double(bytes) / (1024.0 * 1024.0));
    return buf;
}

}  // namespace

bool download_if_missing(const std::string &model, const std::filesystem::path &data_dir,
                         const std::vector<std::filesystem::path> &extra_roots, const std::string &plugin_id,
                         const instance_core &core, const omnihost_job *job) {
    if (!models::is_hub_model_id(model)) return false;
    std::string looked;
    try {
        resolve_model(model, data_dir, extra_roots, plugin_id);
        return false;  // found: nothing to fetch
    } catch (const model_outside_roots &) {
        return false;  // resolve_model refuses it again, with its fixed message
    } catch (const plugin_error &e) {
        looked = e.what();
    }
    // Refusals below start with the resolver's "not found; looked in:" list and add the hub as the
    // last place looked, so a mistyped local path reads as before.
    const std::string prefix = "model: ";
    if (looked.rfind(prefix, 0) == 0) looked.erase(0, prefix.size());
    if (hub::downloads_forbidden())
        throw invalid_field("model", looked + "\n  - the Hugging Face hub: not asked, downloads are off (omnihost "
                                              "--no-download / HF_HUB_OFFLINE=1); download '" + model +
                                              "' beforehand or start omnihost without --no-download");

    hub::download_options o;
    o.log = [&core](hub::log_level l, const std::string &m) {
        core.log(l == hub::log_level::warn ? OMNIHOST_LOG_WARN : l == hub::log_level::debug ? OMNIHOST_LOG_DEBUG : OMNIHOST_LOG_INFO, m);
    };
    // The progress bar moves in KiB (an int holds 2 TiB of them); reported when a file starts or
    // another per-mille of the total is done, so a fast download does not flood the bus.
    int last_file = -1;
    int64_t last_mille = -1;
    o.progress = [&](const hub::download_progress &p) {
        const int64_t mille = p.total ? int64_t(p.done * 1000 / p.total) : 0;
        if (p.file_index == last_file && mille == last_mille) return;
        last_file = p.file_index;
        last_mille = mille;
        const auto kib = [](uint64_t b) { return int(std::min<uint64_t>(b / 1024, uint64_t(INT32_MAX))); };
        job_progress(job, kib(p.done), std::max(1, kib(p.total)), "download",
                     "file " + std::to_string(p.file_index) + "/" + std::to_string(p.file_count) + " " + p.file + ": " +
                         mib(p.file_done) + "/" + mib(p.file_size) + " MiB (" + mib(p.done) + "/" + mib(p.total) + " MiB in all)");
    };
    o.is_cancelled = [job] { return job_cancelled(job); };
    try {
        hub::download_model(model, o);
    } catch (const hub::hub_error &e) {
        switch (e.kind) {
        case hub::hub_error_kind::cancelled: throw plugin_error(OMNIHOST_CANCELLED, e.what());
        case hub::hub_error_kind::gated: throw invalid_field("model", e.what());
        case hub::hub_error_kind::offline:
        case hub::hub_error_kind::bad_id:
        case hub::hub_error_kind::unauthorized:
        case hub::hub_error_kind::not_found:
        case hub::hub_error_kind::unreachable:
            throw invalid_field("model", looked + "\n  - the Hugging Face hub: " + e.what());
        default: throw plugin_error(OMNIHOST_UNAVAILABLE, std::string("model: download failed: ") + e.what());
        }
    }
    return true;
}

}  // namespace omnihost::inprocess
