#include "core/offload.h"

#include <stdexcept>
#include <utility>

namespace omnihost::models {

const char *offload_mode_name(offload_mode m) {
    switch (m) {
    case offload_mode::model: return "model";
    case offload_mode::sequential: return "sequential";
    case offload_mode::none: break;
    }
    return "none";
}

model_offloader::model_offloader(bool enabled, c10::Device execution_device, offload_move_observer on_move)
    : enabled_(enabled), execution_(execution_device), on_move_(std::move(on_move)) {}

void model_offloader::add(const std::string &name, std::function<void(const c10::Device &)> move) {
    for (const auto &c : components_)
        if (c.name == name) throw std::logic_error("offload: component '" + name + "' registered twice");
    components_.push_back({name, std::move(move)});
}

model_offloader::component &model_offloader::find(const std::string &name) {
    for (auto &c : components_)
        if (c.name == name) return c;
    throw std::logic_error("offload: no component '" + name + "' registered");
}

void model_offloader::move(component &c, const c10::Device &d) {
    if (c.move) c.move(d);
    if (on_move_) on_move_(c.name, d);
}

void model_offloader::activate(const std::string &name) {
    component &next = find(name);  // unknown names fail even when disabled (a wiring error)
    if (!enabled_ || resident_ == name) return;
    if (!resident_.empty()) {
        // Cleared first: if the move back throws, nothing claims to be resident.
        const std::string previous = std::exchange(resident_, std::string());
        move(find(previous), c10::Device(c10::kCPU));
    }
    move(next, execution_);
    resident_ = name;
}

void model_offloader::release_all() {
    if (!enabled_ || resident_.empty()) return;
    const std::string previous = std::exchange(resident_, std::string());
    move(find(previous), c10::Device(c10::kCPU));
}

offload_release_guard::~offload_release_guard() {
    try {
        off_.release_all();
    } catch (...) {
    }
}

std::string model_offloader::order() const {
    std::string s;
    for (const auto &c : components_) s += (s.empty() ? "" : " -> ") + c.name;
    return s;
}

block_offloader::block_offloader(bool enabled, c10::Device execution_device, std::string component,
                                 std::function<void(size_t, const c10::Device &)> move_block,
                                 offload_move_observer on_move)
    : enabled_(enabled), execution_(execution_device), component_(std::move(component)),
      move_block_(std::move(move_block)), on_move_(std::move(on_move)) {}

void block_offloader::before(size_t block) {
    if (!enabled_) return;
    if (move_block_) move_block_(block, execution_);
    if (on_move_) on_move_(component_ + ".block " + std::to_string(block), execution_);
}

void block_offloader::after(size_t block) {
    if (!enabled_) return;
    const c10::Device cpu(c10::kCPU);
    if (move_block_) move_block_(block, cpu);
    if (on_move_) on_move_(component_ + ".block " + std::to_string(block), cpu);
}

}  // namespace omnihost::models
