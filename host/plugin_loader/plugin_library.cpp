// Loading a plugin library and validating its entry table against the ABI and its manifest.
#include "plugin_library.h"

#include <boost/dll/shared_library.hpp>

#include <cstddef>
#include <cstring>

namespace omnihost::plugin_loader {

struct plugin_library::dll {
    boost::dll::shared_library lib;
};

size_t required_entry_size() {
    return offsetof(omnihost_plugin_entry, stop) + sizeof(omnihost_plugin_entry::stop);
}

namespace {

// The members every 1.0 plugin must fill, with the names used in error messages.
void require_members(const omnihost_plugin_entry &e, const std::string &where) {
    struct member { const char *name; const void *ptr; };
    const member required[] = {
        {"id", e.id},
        {"version", e.version},
        {"create", reinterpret_cast<const void *>(e.create)},
        {"destroy", reinterpret_cast<const void *>(e.destroy)},
        {"start", reinterpret_cast<const void *>(e.start)},
        {"health", reinterpret_cast<const void *>(e.health)},
        {"generate", reinterpret_cast<const void *>(e.generate)},
        {"release_result", reinterpret_cast<const void *>(e.release_result)},
        {"stop", reinterpret_cast<const void *>(e.stop)},
    };
    for (const auto &m : required)
        if (!m.ptr) throw loader_error::library(where + ": entry member '" + m.name + "' is NULL");
}

}  // namespace

plugin_library::~plugin_library() = default;

std::shared_ptr<plugin_library> plugin_library::load(const plugin_manifest &m) {
    const std::string where = m.library_path.string();
    std::error_code fs_ec;
    if (!std::filesystem::is_regular_file(m.library_path, fs_ec))
        throw loader_error::library("library file not found: " + where);

    std::shared_ptr<plugin_library> out(new plugin_library());
    out->manifest_ = m;
    out->dll_ = std::make_unique<dll>();
    try {
        // rtld_now: unresolved symbols fail here, with dlerror's text, instead of crashing later.
        // rtld_local: each plugin's dependencies stay in their own scope (sentencepiece vs libtorch).
        out->dll_->lib.load(m.library_path,
                            boost::dll::load_mode::rtld_now | boost::dll::load_mode::rtld_local);
    } catch (const std::exception &e) {
        throw loader_error::library("cannot load library " + where + ": " + e.what());
    }

    if (!out->dll_->lib.has(OMNIHOST_PLUGIN_ENTRY_SYMBOL))
        throw loader_error::library(std::string("missing entry symbol '") + OMNIHOST_PLUGIN_ENTRY_SYMBOL + "' in " + where);

    const omnihost_plugin_entry *raw = nullptr;
    try {
        auto &entry_fn = out->dll_->lib.get<const omnihost_plugin_entry *()>(OMNIHOST_PLUGIN_ENTRY_SYMBOL);
        raw = entry_fn();
    } catch (const std::exception &e) {
        throw loader_error::library(where + ": calling the entry symbol failed: " + e.what());
    } catch (...) {
        throw loader_error::library(where + ": the entry symbol threw an exception");
    }
    if (!raw) throw loader_error::library(where + ": entry symbol returned NULL");

    // abi_major, abi_minor and struct_size are the first members of every version of the entry.
    if (raw->abi_major != OMNIHOST_ABI_MAJOR)
        throw loader_error::library(where + ": built for plugin ABI " + std::to_string(raw->abi_major) + "." +
                         std::to_string(raw->abi_minor) + ", but this host speaks ABI " +
                         std::to_string(OMNIHOST_ABI_MAJOR) + ".x; rebuild the plugin against omnihost_plugin.h " +
                         std::to_string(OMNIHOST_ABI_MAJOR) + "." + std::to_string(OMNIHOST_ABI_MINOR));
    if (raw->struct_size < required_entry_size())
        throw loader_error::library(where + ": entry struct_size " + std::to_string(raw->struct_size) +
                         " is smaller than the " + std::to_string(required_entry_size()) +
                         " bytes ABI " + std::to_string(OMNIHOST_ABI_MAJOR) + ".0 requires");

    // Read no more than the plugin declared; members it did not declare (entry_ starts zeroed) stay
    // NULL, so the optional ones (command_preview, get_extension) read as absent.
    out->bytes_read_ = std::min<size_t>(raw->struct_size, sizeof(omnihost_plugin_entry));
    std::memcpy(&out->entry_, raw, out->bytes_read_);

    require_members(out->entry_, where);
    if (m.id != out->entry_.id)
        throw loader_error::library("manifest id '" + m.id + "' does not match library id '" + out->entry_.id + "' (" + where + ")");
    if (m.version != out->entry_.version)
        throw loader_error::library("manifest version '" + m.version + "' does not match library version '" +
                         out->entry_.version + "' (" + where + ")");
    if (m.abi_major != out->entry_.abi_major)
        throw loader_error::library("manifest abi.major " + std::to_string(m.abi_major) + " does not match library abi_major " +
                         std::to_string(out->entry_.abi_major) + " (" + where + ")");
    return out;
}

}  // namespace omnihost::plugin_loader
