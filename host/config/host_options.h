// host_options.h — every knob of the omnihost process. The values come from four layers of a
// Poco::Util::LayeredConfiguration, later layers winning: defaults (this struct's initialisers) <
// the --config JSON file < the environment < the command line (see config/option_layers.h).
//
// Adding an option is one edit in two adjacent places, both in this folder:
//   1. a field below, with its default and a comment saying what it is for;
//   2. one entry in option_table() (config/option_table.cpp) naming it, e.g.
//        unsigned_option("max-foo", "N", "what it limits", &host_options::max_foo, 1, 4096),
//      which gives it --max-foo, the config-file key max-foo/max_foo, --help text with its default
//      and range checking with an error message naming --max-foo. Nothing else parses options.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace omnihost {

// Operator-set ceilings on one generation. Only the operator raises them; a request may ask for
// less, never more (4xx naming the field).
struct operator_limits {
    int64_t max_frames = 481;         // video frames (num_frames, or duration x fps)
    int64_t max_pixels = 2048 * 2048; // height x width of one image or frame
    int64_t max_steps = 200;          // num_inference_steps
    double max_duration = 60;         // seconds of video or audio
    int64_t max_samples = 4;          // outputs per request (num_*_per_prompt, num_samples)
    int64_t max_image_bytes = 16 * 1024 * 1024; // one input image (image-to-video), encoded bytes
};

struct host_options {
    std::string host = "127.0.0.1";
    uint16_t port = 8091;               // 0 = ephemeral; the bound port is printed on stdout
    std::string plugin_dir = "plugins"; // folder scanned for <id>.plugin.json + lib<id>.so
    std::string recipe_dir = "recipes"; // folder of <id>.json recipes (+ catalog/models.json)
    std::string web_dir = "web";        // static UI root, served at /
    std::string data_dir = "data";      // models and outputs; recipes with model_root "data_dir" resolve here
    std::string log_level = "info";     // trace, debug, info, warn, error
    std::string token;                  // bearer token for /api and /ws; empty = auth off
    uint64_t max_body_bytes = 64ull * 1024 * 1024; // request bodies above this get 413
    std::string default_recipe = "demo-wan-tiny";  // listed first in /recipes and /models
    // A plugin call that outlives these is abandoned and the slot marked failed (0 = wait forever):
    uint32_t cancel_deadline_s = 30;    // a cancelled start/generate, counted from the cancel
    uint32_t stop_deadline_s = 30;      // a plugin stop()/destroy, counted from the call
    // HTTP connections served at once (each holds a worker thread while open, WebSocket viewers
    // included); one more is answered 503 by a few spare threads. --max-http-threads is an alias.
    int max_connections = 64;
    int max_ws_clients = 16;            // /ws/omni/logs viewers; more get 503 (keep < max_connections)
    // Host header names accepted besides the loopback names and the bound address ("*" = any);
    // anything else is refused 403 (DNS rebinding).
    std::vector<std::string> allowed_hosts;
    // Origins (scheme://host[:port]) allowed besides the page's own for state-changing requests
    // and WebSocket upgrades ("*" = any).
    std::vector<std::string> allowed_origins;
    // Servers (host:port) a start request may point a remote-mode plugin at (remote_url); none by
    // default, so a request cannot make the host reach into the operator's network (SSRF).
    // A recipe's own remote_url needs no entry.
    std::vector<std::string> remote_allow;
    // Operator limits on what one request may ask for; a request may only ask for less.
    operator_limits limits;
    // Operator settings per plugin, from the config file only ("plugin_config": {"<plugin id>":
    // {...}}), merged into that plugin's create() config: what a start request must not choose
    // (e.g. subprocess_proxy's "vllm_binary"). A JSON object, serialised.
    std::string plugin_config_json = "{}";
    // Jobs (host/jobs): queued generations at most (all hosts of a shared database); more get 429.
    uint32_t queue_depth = 32;
    // Where job records live: "" = SQLite <data-dir>/jobs.db; "sqlite:PATH"; or a PostgreSQL URI
    // (postgresql://user@host:port/db) shared by several hosts, which then share one queue.
    std::string database;
    std::string output_dir;             // job outputs; "" = <data-dir>/outputs (a shared volume for several hosts)
    uint64_t output_quota_mb = 0;       // 0 = no quota; above it the oldest outputs are evicted
    uint32_t job_lease_s = 30;          // a running job's claim; another host takes it over this long after its worker died
    // Models are never downloaded: a hub id that is not in the Hugging Face cache fails its start.
    // Applied as HF_HUB_OFFLINE=1 in the process environment, which the in-process downloader (hub/),
    // vLLM and huggingface_hub in subprocesses all honour.
    bool no_download = false;
};

// Thrown for a bad option or config file; the message names the option or the config key.
struct options_error {
    std::string message;
};

} // namespace omnihost
