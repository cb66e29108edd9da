// spdlog sink that feeds the log bus, so every line of every spdlog logger it is attached to lands
// on /ws/omni/logs. The logger's name becomes the frame's "source", the payload its "message".
#pragma once

#include "log_bus.h"

#include <memory>

namespace omnihost::log_bus {

// A sink (thread-safe, spdlog's *_mt flavour) that publishes to `target`. The bus must outlive
// every logger holding the sink. Add it to a logger next to the console sink:
//   auto sink = omnihost::log_bus::make_spdlog_sink(bus);
//   spdlog::default_logger()->sinks().push_back(sink);
std::shared_ptr<spdlog::sinks::sink> make_spdlog_sink(bus &target);

}  // namespace omnihost::log_bus
