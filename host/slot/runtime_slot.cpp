#include "slot/runtime_slot.h"

#include <ctime>
#include <future>

#include <spdlog/spdlog.h>

namespace omnihost {

const char *slot_state_name(SlotState state) {
    switch (state) {
    case SlotState::Idle: return "idle";
    case SlotState::Starting: return "starting";
    case SlotState::Ready: return "ready";
    case SlotState::Stopping: return "stopping";
    case SlotState::Failed: return "failed";
    }
    return "?";
}

namespace {

std::string iso_now() {
    const auto now = std::chrono::system_clock::now();
    const auto seconds = std::chrono::system_clock::to_time_t(now);
    const auto millis =
        std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count() % 1000;
    std::tm utc{};
    gmtime_r(&seconds, &utc);
    char buffer[64];
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", utc.tm_year + 1900,
                  utc.tm_mon + 1, utc.tm_mday, utc.tm_hour, utc.tm_min, utc.tm_sec,
                  static_cast<int>(millis));
    return buffer;
}

const char *status_word(omnihost_status code) {
    switch (code) {
    case OMNIHOST_OK: return "ok";
    case OMNIHOST_INVALID_ARGUMENT: return "invalid argument";
    case OMNIHOST_NOT_SUPPORTED: return "not supported";
    case OMNIHOST_OUT_OF_MEMORY: return "out of memory";
    case OMNIHOST_CANCELLED: return "cancelled";
    case OMNIHOST_UNAVAILABLE: return "unavailable";
    default: return "internal error";
    }
}

} // namespace

struct RuntimeSlot::Job {
    std::string id;
    std::string task;
    std::string started_at = iso_now();
    std::atomic<bool> cancelled{false};
    std::mutex progress_mutex;
    ProgressView progress;
};

RuntimeSlot::RuntimeSlot(BackendFactory factory, ProgressSink progress_sink,
                         std::chrono::milliseconds health_interval)
    : factory_(std::move(factory)), progress_sink_(std::move(progress_sink)),
      health_interval_(health_interval) {
    health_thread_ = std::thread([this] { health_loop(); });
}

RuntimeSlot::~RuntimeSlot() { shutdown(std::chrono::seconds(30)); }

JobHooks RuntimeSlot::make_hooks(const std::shared_ptr<Job> &job) {
    JobHooks hooks;
    hooks.job_id = job->id;
    hooks.progress = [this, job](int32_t step, int32_t total, const std::string &phase,
                                 const std::string &message) {
        {
            std::lock_guard lock(job->progress_mutex);
            job->progress = {step, total, phase, message};
        }
        if (progress_sink_) progress_sink_(job->id, step, total, phase, message);
    };
    hooks.is_cancelled = [job] { return job->cancelled.load(std::memory_order_relaxed); };
    return hooks;
}

SlotReply RuntimeSlot::start(StartPlan plan) {
    std::shared_ptr<Job> job;
    uint64_t epoch = 0;
    {
        std::lock_guard lock(mutex_);
        if (closing_) return {503, "the host is shutting down"};
        if (state_ == SlotState::Starting || state_ == SlotState::Ready)
            return {409, "vLLM-Omni server is already running (" + std::string(slot_state_name(state_)) +
                             ": " + (plan_ ? plan_->model : "") + "); stop it first"};
        if (state_ == SlotState::Stopping)
            return {409, "the previous model is still stopping; try again in a moment"};
        job = std::make_shared<Job>();
        job->id = "load-" + std::to_string(++job_counter_);
        job->task = "load";
        state_ = SlotState::Starting;
        error_.clear();
        health_json_.clear();
        plan_ = plan;
        load_job_ = job;
        started_at_ = std::chrono::steady_clock::now();
        epoch = ++epoch_;
    }
    state_cv_.notify_all();
    spdlog::info("starting model {} ({} / {}) with plugin {}", plan.model, plan.model_type,
                 plan.run_mode, plan.plugin_id);
    worker_.post([this, epoch, job, plan = std::move(plan)]() mutable {
        run_load(epoch, job, std::move(plan));
    });
    return {202, ""};
}

void RuntimeSlot::run_load(uint64_t epoch, std::shared_ptr<Job> job, StartPlan plan) {
    std::string create_error;
    std::unique_ptr<Backend> backend;
    if (!job->cancelled) backend = factory_(plan.plugin_id, create_error);
    BackendStatus status{OMNIHOST_CANCELLED, "cancelled before the load began"};
    if (backend && !job->cancelled) {
        status = backend->start(plan.start_json.dump(), make_hooks(job));
    } else if (!backend && !job->cancelled) {
        status = {OMNIHOST_INTERNAL, "cannot create plugin instance: " + create_error};
    }
    bool keep = false;
    {
        std::lock_guard lock(mutex_);
        if (epoch != epoch_ || state_ != SlotState::Starting) {
            // stop() arrived during the load: hand the instance to run_stop, which is queued next.
            keep = true;
        } else if (status.ok()) {
            state_ = SlotState::Ready;
            load_job_.reset();
            keep = true;
        } else {
            state_ = SlotState::Failed;
            error_ = "start failed (" + std::string(status_word(status.code)) + "): " + status.message;
            load_job_.reset();
        }
    }
    if (keep) {
        std::lock_guard lock(backend_mutex_);
        backend_ = std::move(backend);
    }
    if (status.ok() && keep) spdlog::info("model {} is ready", plan.model);
    else if (!keep) spdlog::error("model {} failed to start: {}", plan.model, status.message);
    if (backend) {
        backend->stop(); // failed start: release whatever the plugin half-built
        backend.reset();
    }
    state_cv_.notify_all();
}

SlotReply RuntimeSlot::stop(std::chrono::milliseconds wait) {
    {
        std::lock_guard lock(mutex_);
        switch (state_) {
        case SlotState::Idle: return {409, "vLLM-Omni server is not running"};
        case SlotState::Stopping: return {409, "the model is already stopping"};
        case SlotState::Failed:
            // The instance is already gone (or its teardown is queued); just forget the failure.
            state_ = SlotState::Idle;
            error_.clear();
            plan_.reset();
            state_cv_.notify_all();
            return {200, ""};
        case SlotState::Starting:
        case SlotState::Ready:
            if (load_job_) load_job_->cancelled = true;
            if (generation_job_) generation_job_->cancelled = true;
            state_ = SlotState::Stopping;
            break;
        }
    }
    state_cv_.notify_all();
    spdlog::info("stopping the model");
    worker_.post([this] { run_stop(); });
    const bool done = wait_for_state({SlotState::Idle, SlotState::Starting, SlotState::Failed}, wait);
    return {done ? 200 : 202, ""};
}

void RuntimeSlot::run_stop() {
    std::unique_ptr<Backend> backend;
    {
        std::lock_guard lock(backend_mutex_);
        backend = std::move(backend_);
    }
    if (backend) {
        if (auto status = backend->stop(); !status.ok())
            spdlog::warn("plugin stop reported: {}", status.message);
        backend.reset();
    }
    {
        std::lock_guard lock(mutex_);
        if (state_ == SlotState::Stopping) {
            state_ = SlotState::Idle;
            plan_.reset();
            load_job_.reset();
            error_.clear();
            health_json_.clear();
        }
    }
    state_cv_.notify_all();
    spdlog::info("model stopped");
}

void RuntimeSlot::run_teardown(uint64_t epoch) {
    {
        std::lock_guard lock(mutex_);
        if (epoch != epoch_) return;
    }
    std::unique_ptr<Backend> backend;
    {
        std::lock_guard lock(backend_mutex_);
        backend = std::move(backend_);
    }
    if (backend) {
        backend->stop();
        backend.reset();
    }
}

std::string modality_refusal(const StartPlan &plan, Task task) {
    const std::string wanted = task_model_type(task);
    if (plan.model_type == wanted) return "";
    const std::string who = plan.plugin_kind == "inprocess" ? "In-process model" : "Loaded model";
    return who + " is not " + model_type_article(wanted) + " model (loaded: " + plan.model + ", " +
           plan.model_type + ")";
}

GenerateReply RuntimeSlot::generate(GenerateCall call) { return generate_async(std::move(call)).get(); }

std::future<GenerateReply> RuntimeSlot::generate_async(GenerateCall call) {
    auto promise = std::make_shared<std::promise<GenerateReply>>();
    auto future = promise->get_future();
    auto refuse = [&](int status, std::string message) {
        GenerateReply reply;
        reply.refusal = {status, std::move(message)};
        promise->set_value(std::move(reply));
        return std::move(future);
    };
    std::shared_ptr<Job> job;
    {
        std::lock_guard lock(mutex_);
        if (state_ != SlotState::Ready)
            return refuse(503, std::string("model is not ready (state: ") + slot_state_name(state_) +
                                   (error_.empty() ? "" : ", " + error_) + ")");
        if (plan_) {
            if (auto refusal = modality_refusal(*plan_, call.task); !refusal.empty())
                return refuse(409, refusal);
        }
        if (generation_job_)
            return refuse(409, "busy: job " + generation_job_->id + " is running; one generation at a time");
        job = std::make_shared<Job>();
        job->id = call.job_id.empty() ? "job-" + std::to_string(++job_counter_) : call.job_id;
        job->task = task_name(call.task);
        generation_job_ = job;
    }
    const bool posted = worker_.post([this, job, call = std::move(call), promise]() mutable {
        GenerateReply reply;
        run_generate(job, std::move(call), reply);
        promise->set_value(std::move(reply));
    });
    if (!posted) {
        {
            std::lock_guard lock(mutex_);
            generation_job_.reset();
        }
        return refuse(503, "the host is shutting down");
    }
    return future;
}

void RuntimeSlot::run_generate(std::shared_ptr<Job> job, GenerateCall call, GenerateReply &reply) {
    JobHooks hooks = make_hooks(job);
    hooks.emit = call.emit;
    const auto t0 = std::chrono::steady_clock::now();
    if (!backend_) {
        reply.status = {OMNIHOST_UNAVAILABLE, "no model is loaded"};
    } else if (job->cancelled) {
        reply.status = {OMNIHOST_CANCELLED, "cancelled before it began"};
    } else {
        spdlog::info("job {}: {} generation started", job->id, job->task);
        reply.status = backend_->generate(call.request.dump(), hooks, reply.result);
    }
    reply.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    reply.cancelled = reply.status.code == OMNIHOST_CANCELLED;
    if (reply.status.ok()) spdlog::info("job {}: done in {:.2f} s", job->id, reply.seconds);
    else spdlog::warn("job {}: {}", job->id, reply.cancelled ? "cancelled" : reply.status.message);
    {
        std::lock_guard lock(mutex_);
        if (generation_job_ == job) generation_job_.reset();
    }
    state_cv_.notify_all();
}

SlotReply RuntimeSlot::cancel(const std::string &job_id) {
    bool cancel_load = false;
    {
        std::lock_guard lock(mutex_);
        if (generation_job_ && (job_id.empty() || job_id == generation_job_->id)) {
            generation_job_->cancelled = true;
            spdlog::info("job {}: cancel requested", generation_job_->id);
            return {200, "", generation_job_->id};
        }
        if (state_ == SlotState::Starting && load_job_ && (job_id.empty() || job_id == load_job_->id))
            cancel_load = true;
    }
    if (cancel_load) {
        std::string id;
        {
            std::lock_guard lock(mutex_);
            id = load_job_ ? load_job_->id : job_id;
        }
        SlotReply reply = stop(std::chrono::milliseconds(0));
        if (reply.http_status >= 400) return {404, "no running job '" + job_id + "'"};
        return {200, "", id};
    }
    return {404, job_id.empty() ? "no job is running" : "no running job '" + job_id + "'"};
}

SlotSnapshot RuntimeSlot::snapshot() const {
    std::lock_guard lock(mutex_);
    SlotSnapshot snap;
    snap.state = state_;
    snap.error = error_;
    snap.plan = plan_;
    snap.started_at = started_at_;
    snap.health_json = health_json_;
    if (load_job_ && state_ == SlotState::Starting) {
        std::lock_guard progress_lock(load_job_->progress_mutex);
        snap.load = load_job_->progress;
    }
    if (generation_job_) {
        JobView view;
        view.id = generation_job_->id;
        view.task = generation_job_->task;
        view.started_at = generation_job_->started_at;
        std::lock_guard progress_lock(generation_job_->progress_mutex);
        view.progress = generation_job_->progress;
        snap.job = view;
    }
    return snap;
}

bool RuntimeSlot::wait_for_state(std::initializer_list<SlotState> states,
                                 std::chrono::milliseconds wait) const {
    std::unique_lock lock(mutex_);
    return state_cv_.wait_for(lock, wait, [&] {
        for (SlotState s : states)
            if (state_ == s) return true;
        return false;
    });
}

void RuntimeSlot::health_loop() {
    while (!closing_) {
        {
            std::unique_lock lock(health_wait_mutex_);
            health_wait_cv_.wait_for(lock, health_interval_, [this] { return closing_.load(); });
        }
        if (closing_) return;
        uint64_t epoch = 0;
        {
            std::lock_guard lock(mutex_);
            if (state_ != SlotState::Ready) continue;
            epoch = epoch_;
        }
        std::string answer;
        BackendStatus status;
        {
            std::lock_guard lock(backend_mutex_);
            if (!backend_) continue;
            status = backend_->health(answer);
        }
        nlohmann::json health = nlohmann::json::parse(answer, nullptr, false);
        bool failed = false;
        std::string message;
        if (!status.ok()) {
            // A health() error is not a death certificate: log it, keep serving.
            spdlog::warn("plugin health() returned an error: {}", status.message);
            continue;
        }
        if (health.is_discarded() || !health.is_object()) {
            spdlog::warn("plugin health() returned invalid JSON");
            continue;
        }
        failed = health.value("failed", false);
        message = health.value("message", std::string());
        bool teardown = false;
        {
            std::lock_guard lock(mutex_);
            if (epoch != epoch_ || state_ != SlotState::Ready) continue;
            health_json_ = answer;
            if (failed) {
                state_ = SlotState::Failed;
                error_ = message.empty() ? "the backend reported a failure" : message;
                if (generation_job_) generation_job_->cancelled = true;
                teardown = true;
            }
        }
        if (teardown) {
            spdlog::error("backend failed: {}", message);
            state_cv_.notify_all();
            worker_.post([this, epoch] { run_teardown(epoch); });
        }
    }
}

void RuntimeSlot::shutdown(std::chrono::milliseconds wait) {
    if (closing_.exchange(true)) return;
    health_wait_cv_.notify_all();
    if (health_thread_.joinable()) health_thread_.join();
    bool need_stop = false;
    {
        std::lock_guard lock(mutex_);
        if (load_job_) load_job_->cancelled = true;
        if (generation_job_) generation_job_->cancelled = true;
        if (state_ == SlotState::Starting || state_ == SlotState::Ready) {
            state_ = SlotState::Stopping;
            need_stop = true;
        }
    }
    if (need_stop) worker_.post([this] { run_stop(); });
    // Also tear down an instance left by a health failure.
    worker_.post([this] {
        uint64_t epoch = 0;
        {
            std::lock_guard lock(mutex_);
            epoch = epoch_;
        }
        run_teardown(epoch);
    });
    const auto deadline = std::chrono::steady_clock::now() + wait;
    while (worker_.busy() && std::chrono::steady_clock::now() < deadline)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    if (worker_.busy()) {
        spdlog::error("a plugin call did not return within {} ms of shutdown; leaving it behind",
                      wait.count());
        worker_.shutdown(false);
    } else {
        worker_.shutdown(true);
    }
}

} // namespace omnihost
