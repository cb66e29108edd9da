// The `vllm serve <model> --omni` command line, built once from the start JSON and used both to
// launch (subprocess and container) and to preview, so the preview is exactly what runs.
#pragma once

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <vector>

namespace omnihost::proxy {

// Everything of the start JSON the proxies use, validated.
struct serve_settings {
    std::string model;               // validated by apply_launch_policy (launch_policy.h)
    std::string revision;            // from "org/name@rev"; passed as --revision
    std::string model_type;  // image | omni | video | tts | audio
    std::string run_mode;    // subprocess | container | remote
    int port = 8091;
    int tensor_parallel_size = 1;
    double gpu_memory_utilization = 0.9;
    std::string gpu_device;          // "" | "0" | "0,1" (CUDA_VISIBLE_DEVICES / container GPU flags)
    std::string accelerator = "nvidia";  // operator's: nvidia | amd | none (a request cannot pick it)
    std::string bind_host = "127.0.0.1";  // operator's address for the subprocess server
    bool enable_cpu_offload = false;
    bool enable_torch_compile = false;
    bool enforce_eager = true;       // false when torch.compile is on or enforce_eager:false is given
    bool trust_remote_code = false;
    bool vae_use_slicing = false;
    bool vae_use_tiling = false;
    std::string stage_configs_path;
    std::string hf_token;
    bool use_modelscope = false;
    std::string venv_path;
    std::string remote_url;
    std::string remote_api_key;
    std::vector<std::string> extra_serve_args;  // operator's "vllm_extra_args" (never the request's)
};

// Throws proxy_error(INVALID_ARGUMENT) naming the field. `require_model` is false for remote
// (the model then comes from /v1/models). Types and ranges only: what may run is decided by
// apply_launch_policy (launch_policy.h).
serve_settings parse_serve_settings(const nlohmann::json& start, bool require_model);

// The flags after "--port P --omni", in the playground's order, then the ones it lacked.
std::vector<std::string> vllm_serve_flags(const serve_settings& s);

// A process to launch: argv plus the environment variables set on top of the inherited ones.
struct launch_command {
    std::vector<std::string> argv;
    std::map<std::string, std::string> env;
};

// `<vllm_binary> serve --host H --port P --omni <flags> -- <model>`: the model after `--`, so no
// request text is ever read as an option. With venv_path, `<venv>/bin/vllm` and VIRTUAL_ENV/PATH set. Env: CUDA_VISIBLE_DEVICES, HF_TOKEN, HUGGING_FACE_HUB_TOKEN,
// VLLM_USE_MODELSCOPE=True.
launch_command subprocess_command(const serve_settings& s, const std::string& vllm_binary,
                                 const std::string& inherited_path);

// Names whose values are secrets in previews.
bool is_secret_name(const std::string& name);
// Copy of argv with secret values replaced ("--api-key X", "-e HF_TOKEN=X", "HF_TOKEN=X").
std::vector<std::string> redact_argv(const std::vector<std::string>& argv);
std::map<std::string, std::string> redact_env(const std::map<std::string, std::string>& env);

// POSIX shell quoting (single quotes where needed) and the one-liner "A=1 B=2 argv...".
std::string shell_quote(const std::string& s);
std::string shell_command(const std::map<std::string, std::string>& env, const std::vector<std::string>& argv);

// The preview object of the ABI: {"kind","argv","env","command","settings"}.
nlohmann::json preview_json(const std::string& kind, const launch_command& cmd, const serve_settings& s);

// Settings echoed in previews and health (no secrets).
nlohmann::json settings_json(const serve_settings& s);

}  // namespace omnihost::proxy
