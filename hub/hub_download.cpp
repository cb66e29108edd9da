#include "hub_download.h"

#include "hub_blob.h"
#include "hub_cache.h"
#include "hub_http.h"

#include "core/hub.h"
#include "core/regular_file.h"

#include <Poco/URI.h>

#include <algorithm>
#include <cctype>
#include <cstdlib>

namespace omnihost::hub {
namespace {

namespace fs = std::filesystem;

std::string env(const char *name) {
    const char *v = std::getenv(name);
    return v ? std::string(v) : std::string();
}

std::string human_size(uint64_t bytes) {
    const char *units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
    double v = double(bytes);
    int u = 0;
    while (v >= 1024 && u < 4) {
        v /= 1024;
        ++u;
    }
    char buf[32];
    std::snprintf(buf, sizeof buf, u == 0 ? "%.0f %s" : "%.1f %s", v, units[u]);
    return buf;
}

}  // namespace

bool downloads_forbidden() {
    std::string v = env("HF_HUB_OFFLINE");
    std::transform(v.begin(), v.end(), v.begin(), [](unsigned char c) { return char(std::tolower(c)); });
    return v == "1" || v == "true" || v == "yes" || v == "on";
}

std::string resolve_endpoint(const std::string &configured) {
    std::string e = !configured.empty() ? configured : env("HF_ENDPOINT");
    if (e.empty()) e = "https://huggingface.co";
    while (!e.empty() && e.back() == '/') e.pop_back();
    return e;
}

fs::path download_model(const std::string &model_id, const download_options &o) {
    const auto id = models::parse_hub_id(model_id);
    if (!id) throw hub_error(hub_error_kind::bad_id, "'" + model_id + "' is not a hub id of the form org/name[@revision]");
    if (downloads_forbidden())
        throw hub_error(hub_error_kind::offline, "model '" + model_id +
                                                     "' is not in the Hugging Face cache and downloads are off "
                                                     "(HF_HUB_OFFLINE is set, e.g. by omnihost --no-download)");
    auto log = [&](log_level l, const std::string &m) {
        if (o.log) o.log(l, m);
    };
    hub_session s;
    s.endpoint = resolve_endpoint(o.endpoint);
    s.token = !o.token.empty() ? o.token : (!env("HF_TOKEN").empty() ? env("HF_TOKEN") : env("HUGGING_FACE_HUB_TOKEN"));
    s.model_id = id->org + "/" + id->name;
    s.timeout_s = o.timeout_s;
    s.attempts = o.attempts;
    s.is_cancelled = o.is_cancelled;
    s.warn = [&](const std::string &m) { log(log_level::warn, m); };
    url_origin(s.endpoint);  // refuses an endpoint that is not an http(s) URL, naming it

    fs::path cache = o.cache_dir;
    if (cache.empty()) {
        const auto roots = models::hf_cache_roots();
        if (roots.empty())
            throw hub_error(hub_error_kind::io, "no Hugging Face cache folder: set HF_HOME or HF_HUB_CACHE (or HOME)");
        cache = roots.front();
    }

    // 1. The revision's commit and file list.
    std::string revision_enc;
    Poco::URI::encode(id->revision, "/?#[]@!$&'()*+,;=%:", revision_enc);
    std::string url = s.endpoint + "/api/models/" + s.model_id + "/revision/" + revision_enc;
    log(log_level::info, "downloading " + s.model_id + " (" + id->revision + ") from " + s.endpoint + " into " + cache.string());
    http_answer info;
    for (int hop = 0;; ++hop) {
        http_request req;
        req.url = url;
        req.headers = request_headers(s, url);
        req.timeout_s = s.timeout_s;
        try {
            info = http_perform(req);
        } catch (const hub_error &e) {
            if (e.kind != hub_error_kind::network) throw;
            throw hub_error(hub_error_kind::unreachable, "could not ask " + s.endpoint + " for '" + s.model_id + "': " + e.what());
        }
        if ((info.status == 301 || info.status == 302 || info.status == 307 || info.status == 308) && hop < 5) {
            const std::string next = resolve_location(url, info.header("location"));
            if (url_origin(next) != url_origin(url)) break;  // renamed repos redirect within the hub
            url = next;
            continue;
        }
        break;
    }
    if (info.status != 200) throw_for_status(s, info, "the file list of revision '" + id->revision + "'");
    const repo_revision rev = parse_revision_info(info.body);
    std::vector<std::string> files = select_files(rev.files, o.allow_patterns);
    if (files.empty())
        throw hub_error(hub_error_kind::not_found, "model '" + s.model_id + "' has no files a diffusers pipeline loads "
                                                   "(model_index.json, configs, safetensors, tokenizer files) at " +
                                                   rev.commit);
    const fs::path repo = repo_folder(cache, id->org, id->name);
    const fs::path blobs = repo / "blobs";
    make_real_dirs(cache, blobs);

    // model_index.json first: its components are the folders worth fetching (a repository may
    // also hold the original single-file checkpoint, gigabytes no loader here reads).
    const bool has_index = std::find(files.begin(), files.end(), "model_index.json") != files.end();
    bool index_fetched = false;
    if (has_index) {
        const file_meta index = head_file(s, rev.commit, "model_index.json");
        index_fetched = fetch_blob(s, index, blobs, nullptr);
        std::string text;
        try {
            text = models::read_regular_file(blobs / index.etag, "model_index.json", 1u << 20);
        } catch (const std::exception &e) {
            throw hub_error(hub_error_kind::io, e.what());
        }
        files = restrict_to_components(files, pipeline_components(text));
    } else {
        log(log_level::warn, s.model_id + " has no model_index.json: it is not a diffusers pipeline repository");
    }

    // 2. What each file is (ETag, size, where); the total for the progress bar.
    std::vector<file_meta> metas;
    download_progress p;
    p.file_count = int(files.size());
    for (const auto &f : files) {
        if (s.is_cancelled && s.is_cancelled())
            throw hub_error(hub_error_kind::cancelled, "download of '" + s.model_id + "' cancelled");
        metas.push_back(head_file(s, rev.commit, f));
        p.total += metas.back().size;
    }
    log(log_level::info, s.model_id + "@" + rev.commit.substr(0, 12) + ": " + std::to_string(files.size()) + " files, " +
                             human_size(p.total));

    // 3. The bytes, file by file.
    uint64_t before = 0;
    for (std::size_t i = 0; i < metas.size(); ++i) {
        const file_meta &m = metas[i];
        p.file = m.path;
        p.file_index = int(i) + 1;
        p.file_size = m.size;
        const std::string counter = "[" + std::to_string(i + 1) + "/" + std::to_string(metas.size()) + "] ";
        int next_tenth = 1;
        auto report = [&](uint64_t file_done) {
            p.file_done = file_done;
            p.done = before + file_done;
            if (o.progress) o.progress(p);
            // Large files also get log lines at every tenth, so the log shows they are moving.
            if (m.size >= (64u << 20) && next_tenth < 10 && file_done * 10 >= m.size * uint64_t(next_tenth)) {
                log(log_level::info, counter + m.path + ": " + std::to_string(next_tenth * 10) + "% of " + human_size(m.size));
                while (next_tenth < 10 && file_done * 10 >= m.size * uint64_t(next_tenth)) ++next_tenth;
            }
        };
        const bool fetched = fetch_blob(s, m, blobs, report) || (index_fetched && m.path == "model_index.json");
        report(m.size);
        log(log_level::info, counter + m.path + (fetched ? ": downloaded " : ": already in the cache, ") + human_size(m.size) +
                                 (m.etag.size() == 64 ? " (sha256 checked)" : m.etag.size() == 40 ? " (git blob id checked)" : ""));
        before += m.size;
    }

    // 4. The snapshot, then the ref: only a complete download becomes visible.
    std::vector<std::pair<std::string, std::string>> links;
    for (const auto &m : metas) links.emplace_back(m.path, m.etag);
    write_snapshot(repo, rev.commit, links);
    if (id->revision != rev.commit) write_ref(repo, id->revision, rev.commit);
    log(log_level::info, "downloaded " + s.model_id + " (" + human_size(p.total) + ") to " +
                             (repo / "snapshots" / rev.commit).string());
    return repo / "snapshots" / rev.commit;
}

}  // namespace omnihost::hub
