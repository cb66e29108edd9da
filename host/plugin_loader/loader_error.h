// The one error type of the plugin loader. Every failure it reports — a bad manifest, a library
// that cannot be loaded or checked, a plugin call that returned a non-OK status — is a
// loader_error; `kind` keeps apart what callers branch on: a manifest's faulty `field`, and a
// plugin call's `status` and own `detail`.
#pragma once

#include <omnihost_plugin.h>

#include <stdexcept>
#include <string>

namespace omnihost::plugin_loader {

enum class loader_error_kind {
    manifest,     // unreadable or invalid <id>.plugin.json; `field` names the field at fault
    library,      // the library is missing, does not load, or does not match the ABI/its manifest
    plugin_call,  // a plugin call returned a non-OK status; `status` and `detail` say which and why
};

struct loader_error : std::runtime_error {
    // what(): "plugins/x.plugin.json: field 'routes[1].run_mode': must be one of ...".
    static loader_error manifest(std::string message, std::string field_name) {
        loader_error e(loader_error_kind::manifest, std::move(message));
        e.field = std::move(field_name);
        return e;
    }
    // what(): the human-readable reason the registry shows, e.g. "library file not found: <path>".
    static loader_error library(std::string message) {
        return loader_error(loader_error_kind::library, std::move(message));
    }
    // what(): "<plugin id>: <call> failed (<STATUS>): <detail>".
    static loader_error plugin_call(omnihost_status code, std::string plugin_message, std::string full_message) {
        loader_error e(loader_error_kind::plugin_call, std::move(full_message));
        e.status = code;
        e.detail = std::move(plugin_message);
        return e;
    }

    loader_error_kind kind;
    std::string field;                          // manifest: "" when the file as a whole is at fault
    omnihost_status status = OMNIHOST_INTERNAL;  // plugin_call: never OMNIHOST_OK; INTERNAL otherwise
    std::string detail;                         // plugin_call: the plugin's own reason, may be ""

private:
    loader_error(loader_error_kind k, std::string message) : std::runtime_error(std::move(message)), kind(k) {}
};

}  // namespace omnihost::plugin_loader
