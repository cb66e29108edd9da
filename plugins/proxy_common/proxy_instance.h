// The C ABI table shared by the proxy plugins. A plugin module defines its entry with
// OMNIHOST_PROXY_PLUGIN(id, version, factory), where factory builds its proxy_backend.
#pragma once

#include "proxy_backend.h"

#include <omnihost_plugin.h>

namespace omnihost::proxy {

// Fills a plugin table whose functions drive backends made by `factory`.
const omnihost_plugin_entry* make_proxy_entry(const char* id, const char* version, backend_factory factory);

}  // namespace omnihost::proxy

// Defines the single exported entry symbol, OMNIHOST_PLUGIN_ENTRY_SYMBOL ("omnihost_plugin_get_entry").
#define OMNIHOST_PROXY_PLUGIN(ID, VERSION, FACTORY)                                          \
    extern "C" OMNIHOST_EXPORT const omnihost_plugin_entry* omnihost_plugin_get_entry(void) { \
        static const omnihost_plugin_entry* entry =                                          \
            ::omnihost::proxy::make_proxy_entry(ID, VERSION, FACTORY);                       \
        return entry;                                                                        \
    }
