#include "app/command_line.h"

#include <utility>

namespace omnihost {

CommandLine parse_command_line(const std::vector<std::string> &args) {
    CommandLine result;
    std::vector<std::pair<std::string, std::string>> flags;
    std::string config_file;
    for (size_t i = 0; i < args.size(); ++i) {
        const std::string &arg = args[i];
        if (arg == "-h" || arg == "--help") {
            result.show_help = true;
            continue;
        }
        if (arg.rfind("--", 0) != 0 || arg.size() == 2)
            throw OptionsError{"unexpected argument '" + arg + "' (options start with --; see --help)"};
        std::string name = arg.substr(2);
        std::string value;
        if (auto eq = name.find('='); eq != std::string::npos) {
            value = name.substr(eq + 1);
            name = name.substr(0, eq);
        } else {
            if (i + 1 >= args.size()) throw OptionsError{"--" + name + ": needs a value"};
            value = args[++i];
        }
        if (name == "config") config_file = value;
        else flags.emplace_back(name, value);
    }
    if (!config_file.empty()) apply_config_file(result.options, config_file);
    apply_environment(result.options);
    for (const auto &[name, value] : flags) apply_option(result.options, name, value);
    validate_options(result.options);
    return result;
}

std::string usage_text(const std::string &program) {
    return "usage: " + program + R"( [options]

omnihost: a native playground/server for multimodal generation models.

  --host ADDR            address to bind (default 127.0.0.1)
  --port N               port to bind (default 8091; 0 = any free port, printed at start-up)
  --plugin-dir DIR       folder of <id>.plugin.json + lib<id>.so (default plugins)
  --recipe-dir DIR       folder of recipe JSON files (default recipes)
  --web-dir DIR          static UI folder served at / (default web)
  --data-dir DIR         models and outputs; recipes with model_root "data_dir" live here (default data)
  --log-level LEVEL      trace, debug, info, warn, error, off (default info)
  --config FILE          JSON object with any of these options (keys with - or _)
  --token TOKEN          require "Authorization: Bearer TOKEN" on /api and /ws (env OMNIHOST_TOKEN)
  --max-body-bytes N     largest request body accepted (default 67108864)
  --default-recipe ID    recipe listed first and preselected (default demo-wan-tiny)
  --max-connections N    HTTP connections served at once, log viewers included; more get 503
                         (default 64; --max-http-threads is the old name)
  --max-ws-clients N     /ws/omni/logs viewers at once; more get 503 (default 16, < max-connections)
  --allowed-hosts LIST   comma-separated extra Host header names (e.g. a reverse proxy's name);
                         loopback names and the bound address are always allowed; * = any
  --allowed-origins LIST comma-separated extra origins (http(s)://host[:port]) that may POST and
                         open WebSockets; the page's own origin is always allowed; * = any
  --max-frames N         video frames one request may ask for (default 481)
  --max-pixels N         height x width of one image or frame (default 4194304 = 2048x2048)
  --max-steps N          num_inference_steps (default 200)
  --max-duration SEC     seconds of video or audio (default 60)
  --max-samples N        outputs per request (default 4)
  --cancel-deadline-s N  a cancelled load/generation that has not returned N s later marks the
                         slot failed; its plugin instance is abandoned, not destroyed (default 30;
                         0 = wait forever)
  --stop-deadline-s N    the same for a plugin's stop (unload) (default 30; 0 = wait forever)
  -h, --help             this text

The config file may also hold "plugin_config": {"<plugin id>": {...}}, operator settings merged
into that plugin's create() config (e.g. {"subprocess_proxy": {"vllm_binary": "/opt/vllm/bin/vllm"}}).
Precedence: defaults < --config file < OMNIHOST_TOKEN < command-line flags.
On start-up it prints one line "omnihost listening on http://HOST:PORT". Bound to an address other
machines can reach (e.g. --host 0.0.0.0) without a token, it generates one and prints the URLs
that carry it (http://HOST:PORT/?token=...) before that line.
)";
}

} // namespace omnihost
