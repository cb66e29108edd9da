#include "instance_core.h"

#include <nlohmann/json.hpp>

#include <memory>
#include <utility>

namespace omnihost::inprocess {

struct instance_core::result_holder {
    omnihost_result result{};
    std::vector<uint8_t> bytes;
    std::string mime;
    std::string metadata;
};

instance_core::instance_core(const omnihost_host *host, std::string plugin_id)
    : host_(host), plugin_id_(std::move(plugin_id)) {}

instance_core::~instance_core() {
    std::lock_guard lock(mutex_);
    for (auto &[key, holder] : results_) delete holder;
    results_.clear();
}

void instance_core::log(omnihost_log_level level, const std::string &message) const {
    if (host_ && host_->log) host_->log(host_->user_data, level, plugin_id_.c_str(), message.c_str());
}

void instance_core::set_state(const std::string &state, const std::string &message) {
    std::lock_guard lock(mutex_);
    state_ = state;
    state_message_ = message;
}

const char *instance_core::health() {
    std::lock_guard lock(mutex_);
    const nlohmann::json j = {
        {"ready", state_ == "ready"}, {"failed", false}, {"message", state_message_}, {"state", state_}};
    health_json_ = j.dump();
    return health_json_.c_str();
}

void instance_core::set_last_error(const std::string &message) {
    std::lock_guard lock(mutex_);
    last_errors_[std::this_thread::get_id()] = message;
}

const char *instance_core::last_error() {
    std::lock_guard lock(mutex_);
    return last_errors_[std::this_thread::get_id()].c_str();
}

omnihost_result *instance_core::add_result(std::vector<uint8_t> bytes, std::string mime, std::string metadata) {
    auto holder = std::make_unique<result_holder>();
    holder->bytes = std::move(bytes);
    holder->mime = std::move(mime);
    holder->metadata = std::move(metadata);
    holder->result.struct_size = sizeof(omnihost_result);
    holder->result.data = holder->bytes.data();
    holder->result.size = holder->bytes.size();
    holder->result.mime_type = holder->mime.c_str();
    holder->result.metadata_json = holder->metadata.c_str();
    std::lock_guard lock(mutex_);
    omnihost_result *result = &holder->result;
    results_[result] = holder.release();
    return result;
}

void instance_core::release(omnihost_result *result) {
    if (!result) return;
    std::lock_guard lock(mutex_);
    auto it = results_.find(result);
    if (it == results_.end()) return;  // not ours, or released already
    delete it->second;
    results_.erase(it);
}

const char *instance_core::keep_preview(std::string json_text) {
    std::lock_guard lock(mutex_);
    preview_json_ = std::move(json_text);
    return preview_json_.c_str();
}

}  // namespace omnihost::inprocess
