#include "app/omnihost_app.h"

#include <cstdlib>
#include <filesystem>
#include <iostream>

#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Util/OptionException.h>
#include <Poco/ThreadPool.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "api/api_context.h"
#include "api/browser_guard.h"
#include "api/recipe_manifest_check.h"
#include "app/router.h"
#include "app/access_token.h"
#include "app/http_server.h"
#include "services/plugin_backend.h"
#include "services/preview_service.h"
#include "services/settings_store.h"
#include "jobs/job_manager.h"
#include "metrics/host_metrics.h"
#include "log_bus/log_bus.h"
#include "log_bus/spdlog_sink.h"

namespace omnihost {
namespace {

namespace pl = plugin_loader;

void setup_logging(log_bus::bus &bus, const std::string &level) {
    auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
    auto logger = std::make_shared<spdlog::logger>("host", spdlog::sinks_init_list{console, log_bus::make_spdlog_sink(bus)});
    logger->set_level(spdlog::level::from_str(level));
    logger->flush_on(spdlog::level::info);
    spdlog::set_default_logger(logger);
    bus.set_echo_sink(console);
}

void scan_plugins(pl::registry &registry, log_bus::bus &bus, const host_options &options,
                  const omnihost_host &host_table) {
    pl::scan_options scan;
    scan.probe_host = &host_table;
    scan.probe_config = [&](const pl::plugin_manifest &manifest) {
        pl::plugin_record record;
        record.manifest = manifest;
        return plugin_create_config(record, options.data_dir, options.plugin_config_json);
    };
    scan.on_scanned = [](const pl::plugin_record &record) {
        if (record.available)
            spdlog::info("plugin {} {} ({}) available", record.manifest.id, record.manifest.version,
                         record.manifest.kind);
        else
            spdlog::warn("plugin {} unavailable: {}", record.manifest.id, record.reason);
    };
    if (!registry.scan_dir(options.plugin_dir, scan))
        spdlog::warn("plugin folder {} does not exist; no model can start", options.plugin_dir);
    (void)bus;
}

int usage_error(const std::string &message) {
    std::cerr << "omnihost: " << message << "\n(see --help)\n";
    return Poco::Util::Application::EXIT_USAGE;
}

} // namespace

int omnihost_app::run_from_command_line(int argc, char **argv) {
    try {
        init(argc, argv); // defineOptions, then handleOption for each option given
    } catch (const Poco::Util::OptionException &e) {
        return usage_error(describe_option_error(e));
    } catch (const options_error &e) {
        return usage_error(e.message);
    }
    return Poco::Util::Application::run(); // initialize, main, uninitialize
}

void omnihost_app::defineOptions(Poco::Util::OptionSet &options) { command_line::define_options(options); }

void omnihost_app::handleOption(const std::string &name, const std::string &value) {
    command_line_.handle_option(name, value);
}

int omnihost_app::main(const std::vector<std::string> &args) {
    try {
        if (!args.empty()) throw options_error{unexpected_argument(args.front())};
        if (command_line_.help_requested()) {
            std::cout << usage_text(commandName());
            return EXIT_OK;
        }
        options_ = command_line_.resolve();
    } catch (const options_error &e) {
        return usage_error(e.message);
    }
    // --no-download reaches every downloader (hub/, vLLM, huggingface_hub) as HF_HUB_OFFLINE; set
    // here, before serve() starts any thread (setenv is not thread-safe).
    if (options_.no_download) ::setenv("HF_HUB_OFFLINE", "1", 1);
    return serve();
}

int omnihost_app::serve() {
    log_bus::bus bus;
    setup_logging(bus, options_.log_level);
    const omnihost_host host_table = make_host_table(bus);

    pl::registry registry;
    scan_plugins(registry, bus, options_, host_table);

    api_context context;
    context.options = options_;
    context.bus = &bus;
    context.plugins = &registry;
    context.recipes.load(options_.recipe_dir, options_.default_recipe);
    // A recipe's defaults answer to the same schema as requests: the serving plugin's manifest.
    context.recipes.check_each([&registry](const recipe_entry &recipe) -> std::string {
        auto error = check_recipe_against_manifest(recipe, registry);
        if (!error) return "";
        spdlog::warn("recipe {}: {} (refused by the schema of the plugin serving it)", recipe.id, error->message);
        return error->message;
    });
    for (const auto &problem : context.recipes.problems()) spdlog::warn("recipe skipped: {}", problem.message);
    spdlog::info("{} recipes loaded from {}", context.recipes.recipes().size(), options_.recipe_dir);
    std::vector<std::string> model_problems;
    context.models = build_model_list(context.recipes, options_.recipe_dir + "/catalog/models.json", model_problems);
    for (const auto &problem : model_problems) spdlog::warn("model catalogue: {}", problem);

    metrics::host_metric_set host_metrics; // outlives the slot, whose progress sink feeds it
    std::atomic<jobs::job_queue *> job_progress{nullptr}; // set while the job manager runs
    runtime_slot slot(make_plugin_backend_factory(registry, bus, options_.data_dir, options_.plugin_config_json),
                     [&bus, &host_metrics, &job_progress](const std::string &job_id, int32_t step, int32_t total,
                            const std::string &phase, const std::string &message) {
                         bus.publish_progress(job_id, step, total, phase, message);
                         host_metrics.observe_progress(job_id, step, total);
                         if (auto *manager = job_progress.load()) manager->on_progress(job_id, step, total, phase, message);
                     },
                     std::chrono::milliseconds(1000),
                     slot_deadlines{std::chrono::seconds(options_.cancel_deadline_s),
                                   std::chrono::seconds(options_.stop_deadline_s)});
    preview_service preview(registry, bus, options_.data_dir, options_.plugin_config_json);
    context.slot = &slot;
    context.preview = &preview;
    settings_store settings(std::filesystem::path(options_.data_dir) / "settings.json");
    if (!settings.load_problem().empty()) spdlog::warn("settings: {}", settings.load_problem());
    context.settings = &settings;
    context.metrics = &host_metrics;
    // Jobs: records in SQLite (data dir) or a shared PostgreSQL; one worker feeds the slot.
    std::unique_ptr<jobs::job_database> job_store;
    try {
        job_store = std::make_unique<jobs::job_database>(
            options_.database, (std::filesystem::path(options_.data_dir) / "jobs.db").string());
    } catch (const jobs::store_error &e) {
        spdlog::critical("{}", e.what());
        slot.shutdown(std::chrono::seconds(5));
        return Poco::Util::Application::EXIT_UNAVAILABLE;
    }
    jobs::job_queue_options job_options;
    job_options.queue_depth = options_.queue_depth;
    job_options.output_dir = options_.output_dir.empty()
                                 ? (std::filesystem::path(options_.data_dir) / "outputs").string()
                                 : options_.output_dir;
    job_options.lease = std::chrono::seconds(options_.job_lease_s);
    job_options.output_quota_bytes = static_cast<int64_t>(options_.output_quota_mb) * 1024 * 1024;
    jobs::job_queue job_manager(*job_store, slot, &bus, job_options);
    job_manager.start();
    job_progress = &job_manager;
    context.jobs = &job_manager;
    // Every way out of serve() stops the worker before the slot goes.
    struct jobs_stopper {
        jobs::job_queue &manager;
        std::atomic<jobs::job_queue *> &progress;
        ~jobs_stopper() {
            manager.stop();
            progress = nullptr;
        }
    } jobs_stop{job_manager, job_progress};
    // Declared after the job manager, so the subscription ends before the manager does.
    const auto job_metrics_subscription = host_metrics.attach_jobs(job_manager);
    host_metrics.watch_slot(slot);
    // Declared after the slot, so the watcher thread ends before the slot it waits on is destroyed.
    struct watch_stopper {
        metrics::host_metric_set &metrics;
        ~watch_stopper() { metrics.stop_watching(); }
    } watch_stop{host_metrics};

    std::unique_ptr<Poco::Net::ServerSocket> socket;
    try {
        // SO_REUSEADDR (quick restarts) but never SO_REUSEPORT, which Poco's one-step constructor
        // sets: with it a second omnihost on the same port would silently share the traffic.
        socket = std::make_unique<Poco::Net::ServerSocket>();
        socket->bind(Poco::Net::SocketAddress(options_.host, options_.port), true, false);
        socket->listen(128);
    } catch (const Poco::Exception &e) {
        spdlog::critical("cannot listen on {}:{}: {}", options_.host, options_.port, e.displayText());
        slot.shutdown(std::chrono::seconds(5));
        return Poco::Util::Application::EXIT_UNAVAILABLE;
    }
    context.bound_port = socket->address().port();
    const Poco::Net::IPAddress bound = socket->address().host();
    context.browser = make_browser_policy(options_, bound.toString(), bound.isWildcard());

    // Reachable from other machines without a token: never run open. Generate one and print the
    // URL that carries it (stdout only: the log bus is readable by every log viewer).
    bool generated_token = false;
    if (context.options.token.empty() && is_reachable_beyond_loopback(bound.toString())) {
        context.options.token = generate_access_token();
        generated_token = true;
    }

    auto *params = new Poco::Net::HTTPServerParams; // owned by the server (ref-counted)
    params->setMaxThreads(options_.max_connections + kSpareHttpThreads);
    params->setMaxQueued(256);
    params->setKeepAlive(true);
    // A connection that sends nothing holds a counted slot only this long (Poco's default is 60 s),
    // so a handful of silent sockets cannot keep the host at its connection cap for a minute.
    params->setTimeout(Poco::Timespan(20, 0));
    Poco::ThreadPool threads(2, options_.max_connections + kSpareHttpThreads);
    Poco::SharedPtr<stoppable_handler_factory> router(new api_router(context));
    capped_http_server server(router, threads, *socket, params, options_.max_connections);
    server.start();

    const std::string url = "http://" + options_.host + ":" + std::to_string(context.bound_port);
    if (generated_token) {
        std::cout << "omnihost: " << options_.host << " is reachable from other machines and no --token was "
                  << "given, so this run requires a generated access token. Open:\n";
        for (const auto &access : access_urls(bound.toString(), bound.isWildcard(), context.bound_port,
                                              context.options.token))
            std::cout << "    " << access << "\n";
    }
    // Tests and scripts read this exact line to find an ephemeral port.
    std::cout << "omnihost listening on " << url << std::endl;
    spdlog::info("omnihost listening on {} (web {}, plugins {}, auth {}, up to {} connections, {} log viewers)",
                 url, options_.web_dir, options_.plugin_dir,
                 generated_token ? "generated token (URL on stdout)"
                                 : context.options.token.empty() ? "off" : "bearer token",
                 options_.max_connections, options_.max_ws_clients);

    waitForTerminationRequest();

    spdlog::info("shutting down");
    bus.close_all_subscribers();      // WebSocket handlers return, freeing their threads
    server.stop();                    // no new connections
    job_manager.stop();               // the running job goes back to the queue; nothing new starts
    slot.shutdown(std::chrono::seconds(20)); // cancels the job, unloads the model
    server.stop_all(true);            // drop connections still open
    threads.joinAll();
    spdlog::info("bye");
    return Poco::Util::Application::EXIT_OK;
}

} // namespace omnihost
