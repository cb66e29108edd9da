#include "hub_cache.h"

#include "hub_error.h"

#include <unistd.h>

#include <fstream>
#include <system_error>

namespace omnihost::hub {
namespace {

namespace fs = std::filesystem;

[[noreturn]] void io_error(const std::string &what, const fs::path &p, const std::error_code &ec) {
    throw hub_error(hub_error_kind::io, what + " " + p.string() + ": " + ec.message());
}

// ../ once per folder between the link and the repo folder, then blobs/<etag>.
fs::path blob_target(const std::string &path, const std::string &etag) {
    fs::path target = "..";  // out of snapshots/<commit>
    target /= "..";
    for (char c : path)
        if (c == '/') target /= "..";
    return target / "blobs" / etag;
}

// A symlink at `link` pointing at `target`, replacing whatever link was there (atomically).
void place_link(const fs::path &link, const fs::path &target) {
    std::error_code ec;
    const fs::path tmp = link.parent_path() / (".omnihost-link-" + std::to_string(::getpid()) + "-" + link.filename().string());
    fs::remove(tmp, ec);
    fs::create_symlink(target, tmp, ec);
    if (ec) io_error("cannot create the link", tmp, ec);
    const auto st = fs::symlink_status(link, ec);
    if (!ec && fs::is_directory(st)) {
        fs::remove(tmp, ec);
        throw hub_error(hub_error_kind::unsafe, "a folder is in the way of " + link.string());
    }
    fs::rename(tmp, link, ec);
    if (ec) io_error("cannot place the link", link, ec);
}

void link_all(const fs::path &snapshot, const std::vector<std::pair<std::string, std::string>> &path_etags) {
    for (const auto &[path, etag] : path_etags) {
        const fs::path link = snapshot / path;
        make_real_dirs(snapshot, link.parent_path());
        place_link(link, blob_target(path, etag));
    }
}

}  // namespace

fs::path repo_folder(const fs::path &cache, const std::string &org, const std::string &name) {
    return cache / ("models--" + org + "--" + name);
}

void make_real_dirs(const fs::path &base, const fs::path &dir) {
    const fs::path rel = dir.lexically_relative(base);
    if (rel.empty() || *rel.begin() == "..")
        throw hub_error(hub_error_kind::unsafe, dir.string() + " is not inside " + base.string());
    std::error_code ec;
    fs::create_directories(base, ec);
    if (ec) io_error("cannot create", base, ec);
    fs::path cur = base;
    for (const auto &part : rel) {
        if (part == ".") continue;
        cur /= part;
        const auto st = fs::symlink_status(cur, ec);
        if (fs::is_symlink(st))
            throw hub_error(hub_error_kind::unsafe, cur.string() + " is a symlink; refusing to write through it");
        if (fs::exists(st)) {
            if (!fs::is_directory(st)) throw hub_error(hub_error_kind::unsafe, cur.string() + " is not a folder");
            continue;
        }
        fs::create_directory(cur, ec);
        if (ec && !fs::is_directory(fs::symlink_status(cur))) io_error("cannot create", cur, ec);
    }
}

void write_snapshot(const fs::path &repo, const std::string &commit,
                    const std::vector<std::pair<std::string, std::string>> &path_etags) {
    std::error_code ec;
    const fs::path snapshots = repo / "snapshots";
    const fs::path final_dir = snapshots / commit;
    make_real_dirs(repo, snapshots);
    if (fs::exists(fs::symlink_status(final_dir, ec))) {
        // Another download of this commit (other files, other patterns): add the missing links.
        make_real_dirs(repo, final_dir);
        link_all(final_dir, path_etags);
        return;
    }
    // Built at the same depth as snapshots/<commit> so the relative links stay valid on rename.
    const fs::path staging_parent = repo / ".omnihost-staging";
    const fs::path staging = staging_parent / (commit + "-" + std::to_string(::getpid()));
    make_real_dirs(repo, staging_parent);
    fs::remove_all(staging, ec);
    make_real_dirs(repo, staging);
    link_all(staging, path_etags);
    fs::rename(staging, final_dir, ec);
    if (ec) {
        // Someone else placed the snapshot meanwhile: merge into it.
        fs::remove_all(staging, ec);
        make_real_dirs(repo, final_dir);
        link_all(final_dir, path_etags);
    }
    fs::remove(staging_parent, ec);  // only when empty
}

void write_ref(const fs::path &repo, const std::string &revision, const std::string &commit) {
    const fs::path ref = repo / "refs" / revision;
    make_real_dirs(repo, ref.parent_path());
    const fs::path tmp = ref.parent_path() / (".omnihost-ref-" + std::to_string(::getpid()));
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << commit;
        if (!out) throw hub_error(hub_error_kind::io, "cannot write " + tmp.string());
    }
    std::error_code ec;
    fs::rename(tmp, ref, ec);
    if (ec) io_error("cannot write the ref", ref, ec);
}

}  // namespace omnihost::hub
