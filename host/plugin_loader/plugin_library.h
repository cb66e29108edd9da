// A loaded, validated plugin library: the .so opened with Boost.DLL in LOCAL symbol scope (global
// scope lets libsentencepiece's bundled protobuf collide with libtorch's and crash), its entry
// symbol called and the entry table checked against the ABI and the manifest.
#pragma once

#include "manifest.h"

#include <omnihost_plugin.h>

#include <filesystem>
#include <memory>
#include <string>

namespace omnihost::plugin_loader {

class plugin_library {
public:
    // Loads `m.library_path`, and checks, in this order, each with its own message:
    //   the file exists ("library file not found: <path>"),
    //   it loads (dlerror text),
    //   it exports OMNIHOST_PLUGIN_ENTRY_SYMBOL ("missing entry symbol 'omnihost_plugin_entry' in <path>"),
    //   the entry function returns non-NULL,
    //   abi_major == OMNIHOST_ABI_MAJOR ("built for plugin ABI 99.0, but this host speaks ABI 1.x;
    //   rebuild the plugin against omnihost_plugin.h 1.0"), any minor,
    //   struct_size covers every required 1.0 member; only min(struct_size, sizeof) bytes are read,
    //   id, version and the required function members are non-NULL ("entry member 'generate' is NULL"),
    //   entry id/version equal the manifest's ("manifest id 'a' does not match library id 'b'").
    // Throws loader_error (kind library); what() is the reason the registry shows.
    static std::shared_ptr<plugin_library> load(const plugin_manifest &m);

    ~plugin_library();
    plugin_library(const plugin_library &) = delete;
    plugin_library &operator=(const plugin_library &) = delete;

    // The entry table as this host sees it: members the plugin did not declare are NULL/zero.
    // Valid as long as this object lives (it keeps the library loaded).
    const omnihost_plugin_entry &entry() const { return entry_; }
    const plugin_manifest &manifest() const { return manifest_; }
    const std::filesystem::path &path() const { return manifest_.library_path; }

    // Bytes of the plugin's entry struct this host read: min(struct_size, sizeof).
    size_t entry_bytes_read() const { return bytes_read_; }

private:
    plugin_library() = default;
    struct dll;
    std::unique_ptr<dll> dll_;  // boost::dll::shared_library, hidden to keep Boost out of headers
    omnihost_plugin_entry entry_{};
    size_t bytes_read_ = 0;
    plugin_manifest manifest_;
};

// Smallest struct_size that still carries every member ABI 1.0 requires (through stop).
size_t required_entry_size();

}  // namespace omnihost::plugin_loader
