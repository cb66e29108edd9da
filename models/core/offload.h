// Device placement during a generation, as diffusers' CPU offload does it.
//
// model offload (enable_model_cpu_offload): the components are registered in the pipeline's
// offload order (Wan: text_encoder -> image_encoder -> transformer -> transformer_2 -> vae) and
// live on the CPU; activate(name) moves that component to the execution device and the one that
// was there back to the CPU first, so at most one component is on the GPU at a time (an A14B
// expert that is not running stays on the CPU). release_all() puts everything back on the CPU at
// the end of a generation (diffusers' maybe_free_model_hooks).
//
// sequential offload (enable_sequential_cpu_offload, for small GPUs): a component's blocks stay
// on the CPU and each block moves to the execution device just before it runs and back right
// after (block_offloader). The model's non-block weights follow model offload.
//
// With execution device == CPU every move is a no-op, so the sequencing can be tested on a
// machine without a GPU: `on_move` sees every move the policy makes, device or not.
#pragma once

#include <c10/core/Device.h>

#include <functional>
#include <string>
#include <vector>

namespace omnihost::models {

enum class offload_mode { none, model, sequential };

// "none" / "model" / "sequential".
const char *offload_mode_name(offload_mode m);

// One move the policy made: `component` (or "component.block N") to `device`.
using offload_move_observer = std::function<void(const std::string &component, const c10::Device &device)>;

class model_offloader {
public:
    // `enabled` false: every component stays where it is and activate()/release_all() do nothing.
    model_offloader(bool enabled, c10::Device execution_device, offload_move_observer on_move = {});

    // In offload order. `move` moves every weight of the component to the device it is given.
    void add(const std::string &name, std::function<void(const c10::Device &)> move);

    // Makes `name` the component on the execution device (the previous one goes back to the CPU
    // first, so the two never need the device at once). Unknown names are a std::logic_error.
    void activate(const std::string &name);
    // Every component back on the CPU.
    void release_all();

    bool enabled() const { return enabled_; }
    const c10::Device &execution_device() const { return execution_; }
    // The component on the execution device, "" when none.
    const std::string &resident() const { return resident_; }
    // Registered names in offload order, joined with " -> " (for the load log).
    std::string order() const;

private:
    struct component {
        std::string name;
        std::function<void(const c10::Device &)> move;
    };
    component &find(const std::string &name);
    void move(component &c, const c10::Device &d);

    bool enabled_;
    c10::Device execution_;
    offload_move_observer on_move_;
    std::vector<component> components_;
    std::string resident_;
};

// At the end of a generation, finished or not, every offloaded component goes back to the CPU
// (diffusers' maybe_free_model_hooks). A failed move back (the device is in trouble) is swallowed
// so that it never masks the generation's own error.
class offload_release_guard {
public:
    explicit offload_release_guard(model_offloader &off) : off_(off) {}
    ~offload_release_guard();
    offload_release_guard(const offload_release_guard &) = delete;
    offload_release_guard &operator=(const offload_release_guard &) = delete;

private:
    model_offloader &off_;
};

// Sequential offload of one component's blocks: before(i) moves block i to the execution device,
// after(i) moves it back to the CPU; with `enabled` false both do nothing.
class block_offloader {
public:
    block_offloader(bool enabled, c10::Device execution_device, std::string component,
                    std::function<void(size_t block, const c10::Device &)> move_block,
                    offload_move_observer on_move = {});
    void before(size_t block);
    void after(size_t block);
    bool enabled() const { return enabled_; }

private:
    bool enabled_;
    c10::Device execution_;
    std::string component_;
    std::function<void(size_t, const c10::Device &)> move_block_;
    offload_move_observer on_move_;
};

}  // namespace omnihost::models
