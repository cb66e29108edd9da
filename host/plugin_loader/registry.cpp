// Scanning plugin folders and routing by (model_type, run_mode). Everything that can go wrong with
// one plugin is caught here and turned into that plugin's "reason".
#include "registry.h"

#include "plugin_instance.h"

#include <algorithm>

namespace omnihost::plugin_loader {

namespace {

using nlohmann::json;

constexpr std::string_view manifest_suffix = ".plugin.json";

bool is_manifest_name(const std::filesystem::path &p) {
    std::string name = p.filename().string();
    return name.size() > manifest_suffix.size() &&
           name.compare(name.size() - manifest_suffix.size(), manifest_suffix.size(), manifest_suffix) == 0;
}

std::string stem_id(const std::filesystem::path &p) {
    std::string name = p.filename().string();
    return name.substr(0, name.size() - std::min(name.size(), manifest_suffix.size()));
}

void discard_log(void *, omnihost_log_level, const char *, const char *) {}

// create() + destroy() once, so a plugin whose create fails is listed unavailable up front
// instead of failing the user's first start.
void probe_create(const std::shared_ptr<plugin_library> &lib, const scan_options &options) {
    omnihost_host quiet{sizeof(omnihost_host), nullptr, &discard_log, nullptr};
    const omnihost_host &host = options.probe_host ? *options.probe_host : quiet;
    std::string config = options.probe_config ? options.probe_config(lib->manifest()) : "{}";
    try {
        plugin_instance::create(lib, host, config);  // destroyed at once
    } catch (const loader_error &e) {
        if (e.kind != loader_error_kind::plugin_call) throw;
        throw loader_error::library("create() failed (" + std::string(status_name(e.status)) + "): " + e.detail);
    }
}

}  // namespace

json plugin_record::to_json() const {
    json routes_json = json::array(), refuses_json = json::array();
    for (const auto &r : manifest.routes) routes_json.push_back({{"model_type", r.model_type}, {"run_mode", r.run_mode}});
    for (const auto &r : manifest.refuses)
        refuses_json.push_back({{"model_type", r.model_type}, {"run_mode", r.run_mode}, {"reason", r.reason}});
    return json{{"id", manifest.id},
                {"name", manifest.name},
                {"version", manifest.version},
                {"description", manifest.description},
                {"kind", manifest.kind},
                {"available", available},
                {"reason", available ? json(nullptr) : json(reason)},
                {"routes", std::move(routes_json)},
                {"refuses", std::move(refuses_json)},
                {"tasks", manifest.tasks},
                {"parameters", manifest.parameters},
                {"path", manifest.library_path.empty() ? manifest.manifest_path.string()
                                                       : manifest.library_path.string()}};
}

bool registry::scan_dir(const std::filesystem::path &dir, const scan_options &options) {
    std::error_code ec;
    if (!std::filesystem::is_directory(dir, ec)) return false;
    std::vector<std::filesystem::path> files;
    for (const auto &entry : std::filesystem::directory_iterator(dir, ec))
        if (is_manifest_name(entry.path())) files.push_back(entry.path());
    std::sort(files.begin(), files.end());
    for (const auto &f : files) add_manifest(f, options);
    return true;
}

const plugin_record &registry::add_manifest(const std::filesystem::path &manifest_file,
                                            const scan_options &options) {
    plugin_record rec;
    rec.manifest.manifest_path = manifest_file;
    rec.manifest.id = stem_id(manifest_file);
    try {
        rec.manifest = parse_manifest_file(manifest_file);
        if (find(rec.manifest.id))
            throw loader_error::library("duplicate plugin id '" + rec.manifest.id + "' (already loaded from " +
                             find(rec.manifest.id)->manifest.manifest_path.string() + ")");
        if (rec.manifest.abi_major != OMNIHOST_ABI_MAJOR)
            throw loader_error::library("manifest abi.major: the plugin is built for ABI " +
                             std::to_string(rec.manifest.abi_major) + ".x, but this host speaks ABI " +
                             std::to_string(OMNIHOST_ABI_MAJOR) + ".x");
        rec.library = plugin_library::load(rec.manifest);
        if (options.probe_create) probe_create(rec.library, options);
        rec.available = true;
    } catch (const std::exception &e) {
        rec.available = false;
        rec.reason = e.what();
        rec.library.reset();
    } catch (...) {
        rec.available = false;
        rec.reason = "unknown error while loading the plugin";
        rec.library.reset();
    }
    records_.push_back(std::move(rec));
    if (options.on_scanned) {
        try {
            options.on_scanned(records_.back());
        } catch (...) {
        }
    }
    return records_.back();
}

const plugin_record *registry::find(std::string_view id) const {
    for (const auto &r : records_)
        if (r.manifest.id == id) return &r;
    return nullptr;
}

route_result registry::route(std::string_view model_type, std::string_view run_mode) const {
    route_result out;
    if (!is_model_type(model_type)) {
        out.refusal = "unknown model_type '" + std::string(model_type) + "' (expected video, audio, image, tts or omni)";
        return out;
    }
    if (!is_run_mode(run_mode)) {
        out.refusal = "unknown run_mode '" + std::string(run_mode) + "' (expected subprocess, container or remote)";
        return out;
    }
    for (const auto &r : records_)
        if (r.available && r.manifest.serves(model_type, run_mode)) {
            out.plugin = &r;
            return out;
        }
    for (const auto &r : records_)
        if (const plugin_refusal *ref = r.manifest.refusal_for(model_type, run_mode)) {
            out.refusal = ref->reason;
            return out;
        }
    for (const auto &r : records_)
        if (r.manifest.serves(model_type, run_mode)) {
            out.refusal = "plugin " + r.manifest.id + " serves model_type " + std::string(model_type) +
                          " in run_mode " + std::string(run_mode) + " but is unavailable: " + r.reason;
            return out;
        }
    out.refusal = "no plugin serves model_type " + std::string(model_type) + " in run_mode " + std::string(run_mode);
    return out;
}

json registry::to_json() const {
    json list = json::array();
    for (const auto &r : records_) list.push_back(r.to_json());
    return json{{"plugins", std::move(list)}};
}

}  // namespace omnihost::plugin_loader
