// spdlog -> log bus. The logger's other sinks (console, file) already print the line, so the bus
// does not echo it again.
#include "spdlog_sink.h"

#include <spdlog/sinks/base_sink.h>

#include <mutex>

namespace omnihost::log_bus {

namespace {

log_level from_spdlog(spdlog::level::level_enum level) {
    switch (level) {
    case spdlog::level::trace: return log_level::trace;
    case spdlog::level::debug: return log_level::debug;
    case spdlog::level::info: return log_level::info;
    case spdlog::level::warn: return log_level::warn;
    case spdlog::level::err: return log_level::error;
    case spdlog::level::critical: return log_level::critical;
    default: return log_level::info;
    }
}

// base_sink<std::mutex> serialises sink_it_ calls; the bus is thread-safe anyway, so a null mutex
// would do, but keeping spdlog's _mt contract costs nothing measurable next to JSON escaping.
class bus_sink final : public spdlog::sinks::base_sink<std::mutex> {
public:
    explicit bus_sink(bus &target) : bus_(target) {}

protected:
    void sink_it_(const spdlog::details::log_msg &msg) override {
        std::string_view source(msg.logger_name.data(), msg.logger_name.size());
        if (source.empty()) source = "host";  // the default logger has no name
        bus_.publish_log_at(from_spdlog(msg.level), source,
                            std::string_view(msg.payload.data(), msg.payload.size()), msg.time,
                            /*echo=*/false);
    }
    void flush_() override {}

private:
    bus &bus_;
};

}  // namespace

std::shared_ptr<spdlog::sinks::sink> make_spdlog_sink(bus &target) {
    return std::make_shared<bus_sink>(target);
}

}  // namespace omnihost::log_bus
