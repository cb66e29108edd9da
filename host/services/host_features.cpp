#include "services/host_features.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "services/run_capture.h"
#include "common/json_limits.h"

namespace omnihost {
namespace {

namespace fs = std::filesystem;

std::string env_text(const char *name) {
    const char *value = std::getenv(name);
    return value ? value : "";
}

// The first executable `name` on $PATH, or "".
std::string find_on_path(const std::string &name) {
    if (name.find('/') != std::string::npos) return access(name.c_str(), X_OK) == 0 ? name : "";
    std::stringstream path(env_text("PATH"));
    for (std::string dir; std::getline(path, dir, ':');) {
        if (dir.empty()) continue;
        const fs::path candidate = fs::path(dir) / name;
        std::error_code ec;
        if (fs::is_regular_file(candidate, ec) && access(candidate.c_str(), X_OK) == 0) return candidate.string();
    }
    return "";
}

nlohmann::json gpus() {
    nlohmann::json out = nlohmann::json::array();
    std::error_code ec;
    // The NVIDIA driver lists one folder per GPU, with a "Model:" line in its information file.
    for (const auto &entry : fs::directory_iterator("/proc/driver/nvidia/gpus", ec)) {
        std::ifstream info(entry.path() / "information");
        std::string line, model;
        while (std::getline(info, line))
            if (line.rfind("Model:", 0) == 0) model = line.substr(line.find_first_not_of(" \t", 6));
        out.push_back({{"vendor", "nvidia"}, {"bus", entry.path().filename().string()}, {"name", model}});
    }
    // ROCm: the KFD topology has one node per agent; GPUs have a non-zero gpu_id.
    for (const auto &entry : fs::directory_iterator("/sys/class/kfd/kfd/topology/nodes", ec)) {
        std::ifstream id_file(entry.path() / "gpu_id");
        long long gpu_id = 0;
        if (id_file >> gpu_id && gpu_id != 0)
            out.push_back({{"vendor", "amd"}, {"node", entry.path().filename().string()}, {"name", nullptr}});
    }
    return out;
}

bool starts_with(const std::string &text, const std::string &prefix) { return text.rfind(prefix, 0) == 0; }

std::string trim(std::string text) {
    const auto begin = text.find_first_not_of(" \t\r\n");
    if (begin == std::string::npos) return "";
    return text.substr(begin, text.find_last_not_of(" \t\r\n") - begin + 1);
}

nlohmann::json venv_answer(bool installed, nlohmann::json version, nlohmann::json method, std::string error = "") {
    nlohmann::json out = {{"vllm_omni_installed", installed},
                          {"vllm_omni_version", std::move(version)},
                          {"detection_method", std::move(method)}};
    if (!error.empty()) out["error"] = error;
    return out;
}

} // namespace

std::string normal_venv_path(const std::string &path) {
    std::string text = path;
    if (starts_with(text, "~/") || text == "~") text = env_text("HOME") + text.substr(1);
    if (text.empty()) return "";
    std::error_code ec;
    fs::path absolute = fs::absolute(fs::path(text), ec);
    if (ec) return "";
    std::string normal = absolute.lexically_normal().string();
    while (normal.size() > 1 && normal.back() == '/') normal.pop_back();
    return normal;
}

std::vector<std::string> operator_venvs(const std::string &plugin_config_json) {
    std::vector<std::string> out;
    auto add = [&out](const std::string &path) {
        const std::string normal = normal_venv_path(path);
        if (!normal.empty() && std::find(out.begin(), out.end(), normal) == out.end()) out.push_back(normal);
    };
    const auto config = parse_json_bounded_or_discarded(plugin_config_json);
    if (config.is_object() && config.contains("subprocess_proxy") && config["subprocess_proxy"].is_object()) {
        const auto &proxy = config["subprocess_proxy"];
        if (proxy.contains("venvs") && proxy["venvs"].is_array())
            for (const auto &item : proxy["venvs"])
                if (item.is_string()) add(item.get<std::string>());
    }
    std::stringstream listed(env_text("OMNIHOST_VENVS"));
    for (std::string item; std::getline(listed, item, ':');)
        if (!item.empty() && item[0] == '/') add(item); // relative entries are ignored, as by the proxy
    return out;
}

nlohmann::json detect_features(const plugin_loader::registry &plugins, const std::string &plugin_config_json) {
    nlohmann::json runtimes = nlohmann::json::array();
    for (const char *name : {"podman", "docker"}) {
        const std::string path = find_on_path(name);
        if (!path.empty()) runtimes.push_back({{"name", name}, {"path", path}});
    }
    // The operator may pin the runtime the container proxy uses; it then decides container mode.
    nlohmann::json chosen = nullptr;
    const std::string pinned = env_text("OMNIHOST_CONTAINER_RUNTIME");
    if (!pinned.empty() && pinned != "auto") {
        if (!find_on_path(pinned).empty()) chosen = fs::path(pinned).filename().string();
    } else if (!runtimes.empty()) {
        chosen = runtimes[0]["name"];
    }
    nlohmann::json venvs = nlohmann::json::array();
    for (const auto &venv : operator_venvs(plugin_config_json)) {
        std::error_code ec;
        venvs.push_back({{"path", venv}, {"exists", fs::is_directory(venv, ec)},
                         {"has_vllm", access((venv + "/bin/vllm").c_str(), X_OK) == 0}});
    }
    nlohmann::json plugin_list = nlohmann::json::array();
    for (const auto &record : plugins.plugins()) {
        plugin_list.push_back({{"id", record.manifest.id}, {"kind", record.manifest.kind},
                               {"available", record.available}, {"tasks", record.manifest.tasks}});
    }
    const std::string vllm = !env_text("OMNIHOST_VLLM_BINARY").empty() ? env_text("OMNIHOST_VLLM_BINARY")
                                                                       : find_on_path("vllm");
    return {{"container_mode", !chosen.is_null()},
            {"container_runtime", chosen},
            {"container_runtimes", runtimes},
            {"venvs", venvs},
            {"gpus", gpus()},
            {"plugins", plugin_list},
            {"vllm_binary", vllm.empty() ? nlohmann::json(nullptr) : nlohmann::json(vllm)}};
}

nlohmann::json check_venv(const std::string &venv_path, const std::string &plugin_config_json) {
    if (trim(venv_path).empty()) return venv_answer(false, nullptr, nullptr, "No venv path provided");
    const std::string venv = normal_venv_path(trim(venv_path));
    // Only the operator chooses what the host executes: a path from the request is compared, never run.
    const auto allowed = operator_venvs(plugin_config_json);
    if (std::find(allowed.begin(), allowed.end(), venv) == allowed.end())
        return venv_answer(false, nullptr, nullptr,
                           "Not one of the operator's venvs (plugin_config subprocess_proxy venvs or OMNIHOST_VENVS): " + venv);
    std::error_code ec;
    if (!fs::exists(venv, ec)) return venv_answer(false, nullptr, nullptr, "Path does not exist: " + venv);
    if (!fs::is_directory(venv, ec)) return venv_answer(false, nullptr, nullptr, "Path is not a directory: " + venv);
    const std::string python = venv + "/bin/python";
    if (access(python.c_str(), X_OK) != 0) return venv_answer(false, nullptr, nullptr, "Python executable not found: " + python);

    const std::map<std::string, std::string> env = {
        {"PATH", venv + "/bin:/usr/local/bin:/usr/bin:/bin"}, {"VIRTUAL_ENV", venv}, {"HOME", env_text("HOME")}};
    using std::chrono::seconds;
    auto imported = run_capture({python, "-c", "import vllm_omni; print(getattr(vllm_omni,'__version__','unknown'))"},
                                env, seconds(10));
    if (imported.exit_code == 0) {
        std::string version = trim(imported.output);
        version = version.substr(version.find_last_of('\n') == std::string::npos ? 0 : version.find_last_of('\n') + 1);
        return venv_answer(true, version, "python import");
    }
    auto listed = run_capture({python, "-m", "pip", "list", "--format=freeze"}, env, seconds(30));
    if (listed.exit_code == 0) {
        std::stringstream lines(listed.output);
        for (std::string line; std::getline(lines, line);) {
            for (const char *prefix : {"vllm-omni==", "vllm_omni=="})
                if (starts_with(line, prefix)) return venv_answer(true, trim(line.substr(std::strlen(prefix))), "pip list");
        }
    }
    const std::string uv = find_on_path("uv");
    if (!uv.empty()) {
        auto uv_listed = run_capture({uv, "pip", "list", "--python", python}, env, seconds(30));
        std::stringstream lines(uv_listed.output);
        for (std::string line; std::getline(lines, line);) {
            if (line.find("vllm-omni") == std::string::npos && line.find("vllm_omni") == std::string::npos) continue;
            std::stringstream words(line);
            std::string name, version;
            words >> name >> version;
            return venv_answer(true, version.empty() ? nlohmann::json(nullptr) : nlohmann::json(version), "uv pip list");
        }
    }
    return venv_answer(false, nullptr, nullptr, "vllm-omni is not installed in " + venv);
}

} // namespace omnihost
