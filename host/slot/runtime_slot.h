// runtime_slot.h — the one model the host serves at a time, and its life cycle:
//   idle --start--> starting --ok--> ready --stop--> stopping --> idle
//                   starting --error--> failed(reason)    ready --health failed--> failed(reason)
//                   starting --stop--> stopping (the load is cancelled)   failed --stop/start--> ...
//   any plugin call past its deadline (a cancel ignored, a stop that hangs) --> failed(reason)
// Plugin calls run on one worker thread; HTTP threads enqueue and, for generate, wait.
//
// A plugin call cannot be interrupted, and its instance cannot be destroyed while the call runs.
// So a call that outlives its deadline is abandoned: the worker thread is detached and left inside
// the plugin, the instance is leaked on purpose (its memory comes back only when the process
// exits), the slot turns failed with the reason, and a fresh worker serves the next start. Nothing
// the abandoned thread does when (if) the call returns touches the slot again.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "core/task.h"
#include "slot/backend.h"
#include "slot/serial_worker.h"

namespace omnihost {

enum class slot_state { Idle, Starting, Ready, Stopping, Failed };
const char *slot_state_name(slot_state state);

// Everything decided before a start: the routed plugin and the merged start JSON.
struct start_plan {
    std::string plugin_id;
    std::string plugin_kind;   // "inprocess" or "proxy"
    std::vector<std::string> plugin_tasks;
    nlohmann::json plugin_parameters = nlohmann::json::object(); // manifest "parameters"
    std::string model;         // as clients name it (a data_dir recipe's relative name; start_json has the path)
    std::string model_type;
    std::string run_mode;      // as requested: subprocess, container, remote
    std::string recipe_id;     // "" when none
    int port = 0;
    nlohmann::json start_json = nlohmann::json::object();
    nlohmann::json generation_defaults = nlohmann::json::object(); // recipe defaults, recipe key names
};

struct progress_view {
    int32_t step = 0;
    int32_t total = 0;
    std::string phase;
    std::string message;
};

struct job_view {
    std::string id;
    std::string task;
    progress_view progress;
    std::string started_at; // ISO 8601 UTC
};

// How long a plugin call may outlive the host's wish for it to end. Zero disables a deadline.
struct slot_deadlines {
    std::chrono::milliseconds cancel{30000}; // start/generate, counted from the cancel request
    std::chrono::milliseconds stop{30000};   // stop() and destroy, counted from their call
};

struct slot_snapshot {
    slot_state state = slot_state::Idle;
    std::string error;                  // failure reason ("" when none)
    std::optional<start_plan> plan;      // set from start until back to idle
    std::optional<progress_view> load;   // while starting
    std::optional<job_view> job;         // while a generation runs
    std::chrono::steady_clock::time_point started_at{};
    std::string health_json;            // last health() answer while ready ("" before the first)
    uint32_t abandoned = 0;             // instances given up (leaked) since the slot was made
};

// What became of a call into the slot, in the slot's own terms. The slot knows nothing of HTTP:
// the API layer maps these (services/http_status.h).
enum class slot_outcome {
    done,           // finished: a stop that reached idle, a cancel requested
    accepted,       // goes on in the background: a start loading, a stop still stopping
    shutting_down,  // the host is closing; nothing new starts
    not_ready,      // no model is ready to generate (idle, starting, stopping or failed)
    wrong_state,    // the state forbids it: start while running or stopping, stop while idle
    wrong_modality, // the loaded model serves another modality than the task
    busy,           // a generation is already running; one at a time
    no_such_job,    // no running job has that id
};
const char *slot_outcome_name(slot_outcome outcome);

// Answer of a control call that may be refused.
struct slot_reply {
    slot_outcome outcome = slot_outcome::done;
    std::string error;      // message when refused
    std::string job_id;     // for cancel
    bool refused() const { return outcome != slot_outcome::done && outcome != slot_outcome::accepted; }
};

struct generate_call {
    task_kind task = task_kind::Image;
    std::string job_id;
    nlohmann::json request; // validated, defaults filled, includes "task"
    std::function<void(const std::string &)> emit; // chat streaming, may be empty
};

struct generate_reply {
    slot_reply refusal;          // refused() when refused before running
    backend_status status;       // the plugin's answer when it ran
    backend_result result;
    double seconds = 0;
    bool cancelled = false;
};

// "In-process model is not an audio model (loaded: X, video)"; "" when the plan serves `task`.
std::string modality_refusal(const start_plan &plan, task_kind task);

class runtime_slot {
public:
    using progress_sink_fn = std::function<void(const std::string &job_id, int32_t step, int32_t total,
                                            const std::string &phase, const std::string &message)>;

    runtime_slot(backend_factory factory, progress_sink_fn progress_sink,
                std::chrono::milliseconds health_interval = std::chrono::milliseconds(1000),
                slot_deadlines deadlines = {});
    ~runtime_slot();

    // Accepts a start when idle or failed (accepted); wrong_state otherwise. Loading happens on
    // the worker.
    slot_reply start(start_plan plan);

    // Idle: wrong_state. Failed -> idle at once. Starting/ready -> stopping, with the running load
    // or generation cancelled; waits up to `wait` for idle: done when reached, accepted when still
    // stopping.
    slot_reply stop(std::chrono::milliseconds wait);

    // Runs a generation on the worker and waits for it. Refusals: not_ready, wrong_modality, busy,
    // shutting_down.
    generate_reply generate(generate_call call);
    // Same, without waiting: refusals come back as an already-ready future. Used by streaming
    // endpoints whose HTTP thread pumps emitted events while the worker generates.
    std::future<generate_reply> generate_async(generate_call call);

    // Cancels the running generation (or, for the load job's id, the load). no_such_job when none
    // matches.
    slot_reply cancel(const std::string &job_id);

    slot_snapshot snapshot() const;

    // Stops the model (if any) and the threads. Waits up to `wait` (or a call's own deadline, if
    // sooner) for plugin calls to return; a call still running then is abandoned, never destroyed.
    // Every generate caller gets its answer before this returns.
    void shutdown(std::chrono::milliseconds wait);

    // Blocks until the state is one of `states` or the wait elapsed; for tests and stop().
    bool wait_for_state(std::initializer_list<slot_state> states, std::chrono::milliseconds wait) const;

private:
    struct slot_job;
    struct slot_call;
    class pending_answer;

    void run_load(uint64_t epoch, std::shared_ptr<slot_job> job, start_plan plan);
    void run_stop();
    void run_teardown(uint64_t epoch);
    void run_generate(std::shared_ptr<slot_job> job, generate_call call, std::shared_ptr<pending_answer> answer);
    bool install(std::unique_ptr<slot_backend> backend, uint64_t epoch);
    bool unload(std::unique_ptr<slot_backend> backend);
    void health_loop();
    void watchdog_loop();
    job_hooks make_hooks(const std::shared_ptr<slot_job> &job, std::function<void(const std::string &)> emit = {});

    // The plugin-call protocol on the worker: begin_call before calling into the plugin, end_call
    // after it returned. end_call false = the call was abandoned meanwhile: the caller must leak
    // what it holds and touch nothing of the slot again.
    std::shared_ptr<slot_call> begin_call(const char *what, std::shared_ptr<slot_job> job,
                                     std::function<void(const std::string &)> on_abandon = {});
    bool end_call(const std::shared_ptr<slot_call> &call);
    void abandon(const std::shared_ptr<slot_call> &call, const std::string &why);
    void request_cancel_locked(const std::shared_ptr<slot_job> &job);
    void post_locked(std::function<void()> task);

    backend_factory factory_;
    progress_sink_fn progress_sink_;
    std::chrono::milliseconds health_interval_;
    slot_deadlines deadlines_;

    mutable std::mutex mutex_;
    mutable std::condition_variable state_cv_;
    slot_state state_ = slot_state::Idle;
    std::string error_;
    std::optional<start_plan> plan_;
    std::shared_ptr<slot_job> load_job_;
    std::shared_ptr<slot_job> generation_job_;
    std::chrono::steady_clock::time_point started_at_{};
    std::string health_json_;
    uint64_t epoch_ = 0;
    uint64_t job_counter_ = 0;
    uint32_t abandoned_ = 0;
    std::shared_ptr<slot_call> current_call_; // the plugin call the worker is in, if any
    bool drained_ = false;               // shutdown's last task ran
    bool watchdog_stop_ = false;
    std::condition_variable watch_cv_;   // current_call_ or its deadline changed

    // backend_ is replaced only on the worker (or leaked by abandon()), under backend_mutex_. The
    // health thread takes the instance under that mutex but calls health() outside it (a health()
    // stuck in a plugin must not block abandon() or status); health_in_flight says which instance it is
    // in, and nothing stops or destroys that instance until it has left (see unload()).
    // backend_epoch_ is the start (epoch_) that made it: a teardown for a failure of one instance
    // finds that instance or nothing, never a newer one, whatever stop/start came in between.
    std::mutex backend_mutex_;
    std::unique_ptr<slot_backend> backend_;
    uint64_t backend_epoch_ = 0;

    struct health_in_flight;
    std::shared_ptr<health_in_flight> health_call_; // shared with the health thread, which may outlive the slot
    void wait_health_left(const slot_backend *instance);

    std::atomic<bool> closing_{false};
    std::mutex health_wait_mutex_;
    std::condition_variable health_wait_cv_;
    std::thread health_thread_;
    std::thread watchdog_thread_;
    std::unique_ptr<serial_worker> worker_; // replaced under mutex_ when a call is abandoned
};

} // namespace omnihost
