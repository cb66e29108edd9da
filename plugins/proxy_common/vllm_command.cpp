#include "vllm_command.h"

#include "json_fields.h"

#include <algorithm>
#include <cstdlib>

namespace omnihost::proxy {

using nlohmann::json;

namespace {

std::string expand_home(const std::string& p) {
    if (p.rfind("~/", 0) == 0 || p == "~") {
        const char* home = std::getenv("HOME");
        return std::string(home ? home : "") + p.substr(1);
    }
    return p;
}

std::string format_number(double x) { return json(x).dump(); }

const char* const kModelTypes[] = {"image", "omni", "video", "tts", "audio"};
const char* const kRunModes[] = {"subprocess", "container", "remote"};

}  // namespace

serve_settings parse_serve_settings(const json& start, bool require_model) {
    if (!start.is_object()) throw invalid_field("start", "must be a JSON object");
    serve_settings s;
    s.model = get_string(start, "model");
    if (require_model && s.model.empty()) throw invalid_field("model", "is required");
    s.model_type = get_string(start, "model_type", "image");
    if (std::none_of(std::begin(kModelTypes), std::end(kModelTypes), [&](const char* t) { return s.model_type == t; }))
        throw invalid_field("model_type", "must be one of image, omni, video, tts, audio (got '" + s.model_type + "')");
    s.run_mode = get_string(start, "run_mode", "subprocess");
    if (std::none_of(std::begin(kRunModes), std::end(kRunModes), [&](const char* t) { return s.run_mode == t; }))
        throw invalid_field("run_mode", "must be one of subprocess, container, remote (got '" + s.run_mode + "')");
    s.port = static_cast<int>(get_int(start, "port", 8000, 1, 65535));
    s.tensor_parallel_size = static_cast<int>(get_int(start, "tensor_parallel_size", 1, 1, 1024));
    s.gpu_memory_utilization = get_number(start, "gpu_memory_utilization", 0.9, 0.01, 1.0);
    if (has_field(start, "gpu_device")) {
        const json& g = start["gpu_device"];
        if (g.is_number_integer()) s.gpu_device = std::to_string(g.get<long long>());
        else if (g.is_string()) s.gpu_device = g.get<std::string>();
        else throw invalid_field("gpu_device", "must be a string such as \"0\" or \"0,1\"");
        s.gpu_device.erase(std::remove(s.gpu_device.begin(), s.gpu_device.end(), ' '), s.gpu_device.end());
        if (s.gpu_device.find_first_not_of("0123456789,") != std::string::npos && s.gpu_device != "all")
            throw invalid_field("gpu_device", "must be GPU indices separated by commas, or \"all\"");
        if (s.gpu_device == "all") s.gpu_device.clear();
    }
    // Sent by the playground UI; accepted (type-checked) but never used: GPU flags, devices and the
    // image they imply are the operator's (apply_launch_policy fills s.accelerator).
    get_string(start, "accelerator");
    s.enable_cpu_offload = get_bool(start, "enable_cpu_offload", false);
    s.enable_torch_compile = get_bool(start, "enable_torch_compile", false);
    s.enforce_eager = !s.enable_torch_compile && get_bool(start, "enforce_eager", true);
    s.trust_remote_code = get_bool(start, "trust_remote_code", false);
    s.vae_use_slicing = get_bool(start, "vae_use_slicing", false);
    s.vae_use_tiling = get_bool(start, "vae_use_tiling", false);
    s.stage_configs_path = expand_home(get_string(start, "stage_configs_path"));
    s.hf_token = get_string(start, "hf_token");
    s.use_modelscope = get_bool(start, "use_modelscope", false);
    s.venv_path = expand_home(get_string(start, "venv_path"));
    while (s.venv_path.size() > 1 && s.venv_path.back() == '/') s.venv_path.pop_back();
    s.remote_url = get_string(start, "remote_url");
    s.remote_api_key = get_string(start, "remote_api_key");
    return s;
}

std::vector<std::string> vllm_serve_flags(const serve_settings& s) {
    std::vector<std::string> f;
    if (!s.revision.empty()) f.insert(f.end(), {"--revision", s.revision});
    if (s.tensor_parallel_size > 1) f.insert(f.end(), {"--tensor-parallel-size", std::to_string(s.tensor_parallel_size)});
    if (s.gpu_memory_utilization != 0.9)
        f.insert(f.end(), {"--gpu-memory-utilization", format_number(s.gpu_memory_utilization)});
    if (s.trust_remote_code) f.push_back("--trust-remote-code");
    if (s.enable_cpu_offload) f.push_back("--enable-cpu-offload");
    if (s.enforce_eager) f.push_back("--enforce-eager");
    if (s.vae_use_slicing) f.push_back("--vae-use-slicing");
    if (s.vae_use_tiling) f.push_back("--vae-use-tiling");
    if (!s.stage_configs_path.empty()) f.insert(f.end(), {"--stage-configs-path", s.stage_configs_path});
    f.insert(f.end(), s.extra_serve_args.begin(), s.extra_serve_args.end());
    return f;
}

launch_command subprocess_command(const serve_settings& s, const std::string& vllm_binary,
                                 const std::string& inherited_path) {
    launch_command c;
    std::string binary = vllm_binary.empty() ? "vllm" : vllm_binary;
    if (!s.venv_path.empty()) {
        binary = s.venv_path + "/bin/vllm";
        c.env["VIRTUAL_ENV"] = s.venv_path;
        c.env["PATH"] = s.venv_path + "/bin" + (inherited_path.empty() ? "" : ":" + inherited_path);
    }
    c.argv = {binary, "serve", "--host", s.bind_host, "--port", std::to_string(s.port), "--omni"};
    auto flags = vllm_serve_flags(s);
    c.argv.insert(c.argv.end(), flags.begin(), flags.end());
    c.argv.insert(c.argv.end(), {"--", s.model});
    if (!s.gpu_device.empty()) c.env["CUDA_VISIBLE_DEVICES"] = s.gpu_device;
    if (!s.hf_token.empty()) {
        c.env["HF_TOKEN"] = s.hf_token;
        c.env["HUGGING_FACE_HUB_TOKEN"] = s.hf_token;
    }
    if (s.use_modelscope) c.env["VLLM_USE_MODELSCOPE"] = "True";
    return c;
}

bool is_secret_name(const std::string& name) {
    std::string n = name;
    std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::toupper(c); });
    for (const char* s : {"TOKEN", "API_KEY", "APIKEY", "SECRET", "PASSWORD"})
        if (n.find(s) != std::string::npos) return true;
    return false;
}

std::vector<std::string> redact_argv(const std::vector<std::string>& argv) {
    std::vector<std::string> out = argv;
    for (size_t i = 0; i < out.size(); ++i) {
        std::string& a = out[i];
        if ((a == "--api-key" || a == "--hf-token") && i + 1 < out.size()) {
            out[++i] = "***";
            continue;
        }
        auto eq = a.find('=');
        if (eq != std::string::npos && a.rfind("--", 0) != 0 && is_secret_name(a.substr(0, eq)))
            a = a.substr(0, eq + 1) + "***";
        else if (a.rfind("--api-key=", 0) == 0)
            a = "--api-key=***";
    }
    return out;
}

std::map<std::string, std::string> redact_env(const std::map<std::string, std::string>& env) {
    auto out = env;
    for (auto& [k, v] : out)
        if (is_secret_name(k)) v = "***";
    return out;
}

std::string shell_quote(const std::string& s) {
    if (s.empty()) return "''";
    // A redacted value is shown as the bare marker (HF_TOKEN=***), like the playground's preview.
    if (s.size() >= 3 && s.compare(s.size() - 3, 3, "***") == 0 && s.find('*') == s.size() - 3 &&
        shell_quote(s.substr(0, s.size() - 3) + "x") == s.substr(0, s.size() - 3) + "x")
        return s;
    if (s.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_-./:=,@%+") ==
        std::string::npos)
        return s;
    std::string out = "'";
    for (char c : s) {
        if (c == '\'') out += "'\\''";
        else out += c;
    }
    return out + "'";
}

std::string shell_command(const std::map<std::string, std::string>& env, const std::vector<std::string>& argv) {
    std::string out;
    for (const auto& [k, v] : env) out += k + "=" + shell_quote(v) + " ";
    for (size_t i = 0; i < argv.size(); ++i) (out += i ? " " : "") += shell_quote(argv[i]);
    return out;
}

json settings_json(const serve_settings& s) {
    return {{"model", s.model},
            {"revision", s.revision},
            {"model_type", s.model_type},
            {"run_mode", s.run_mode},
            {"port", s.port},
            {"tensor_parallel_size", s.tensor_parallel_size},
            {"gpu_memory_utilization", s.gpu_memory_utilization},
            {"gpu_device", s.gpu_device},
            {"accelerator", s.accelerator},
            {"enable_cpu_offload", s.enable_cpu_offload},
            {"enable_torch_compile", s.enable_torch_compile},
            {"enforce_eager", s.enforce_eager},
            {"trust_remote_code", s.trust_remote_code},
            {"vae_use_slicing", s.vae_use_slicing},
            {"vae_use_tiling", s.vae_use_tiling},
            {"stage_configs_path", s.stage_configs_path},
            {"use_modelscope", s.use_modelscope},
            {"venv_path", s.venv_path},
            {"hf_token", s.hf_token.empty() ? "" : "***"},
            {"remote_url", s.remote_url},
            {"remote_api_key", s.remote_api_key.empty() ? "" : "***"}};
}

json preview_json(const std::string& kind, const launch_command& cmd, const serve_settings& s) {
    auto argv = redact_argv(cmd.argv);
    auto env = redact_env(cmd.env);
    return {{"kind", kind}, {"argv", argv}, {"env", env}, {"command", shell_command(env, argv)},
            {"settings", settings_json(s)}};
}

}  // namespace omnihost::proxy
