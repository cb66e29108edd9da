#include "instance_core.h"

#include <nlohmann/json.hpp>

#include <utility>

namespace omnihost::inprocess {

instance_core::instance_core(const omnihost_host *host, std::string plugin_id)
    : host_(host), plugin_id_(std::move(plugin_id)) {}

void instance_core::log(omnihost_log_level level, const std::string &message) const {
    sdk::host_log(host_, level, plugin_id_.c_str(), message);
}

void instance_core::set_state(const std::string &state, const std::string &message) {
    std::lock_guard lock(mutex_);
    state_ = state;
    state_message_ = message;
}

std::string instance_core::health() const {
    std::lock_guard lock(mutex_);
    const nlohmann::json j = {
        {"ready", state_ == "ready"}, {"failed", false}, {"message", state_message_}, {"state", state_}};
    return j.dump();
}

omnihost_result *instance_core::add_result(std::vector<uint8_t> bytes, std::string mime, std::string metadata) {
    return results_.add(std::move(bytes), std::move(mime), std::move(metadata));
}

}  // namespace omnihost::inprocess
