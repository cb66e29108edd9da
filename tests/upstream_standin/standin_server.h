// The stand-in vLLM-Omni HTTP API (Poco HTTPServer). Steering:
//   POST /standin/control  JSON merged into the behaviour (see README in standin_main.cpp);
//                          "fail": {"<path>": {status, content_type, body, repeat, suffix}} answers
//                          that path with body x repeat + suffix
//   POST /standin/reset    back to defaults
//   GET  /standin/requests recorded requests [{method,path,authorization,content_type,body}]
//   GET  /standin/info     {argv, env, pid, model, port, host (the bind address), environment (every
//                          variable it was started with), fds_at_start (descriptors it inherited)}
#pragma once

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace standin {

struct server_options {
    std::string model = "standin/model";
    std::string host = "0.0.0.0";
    int port = 8091;
    std::string api_key;
    int max_model_len = 4096;
    std::vector<std::string> argv;
    nlohmann::json env = nlohmann::json::object();
    nlohmann::json environment = nlohmann::json::object();
    nlohmann::json fds_at_start = nlohmann::json::array();
    nlohmann::json initial_control = nlohmann::json::object();
};

// Starts the server threads; returns once listening. Throws on bind failure.
void start_server(const server_options& options);

// Writes one log line, flushed: vLLM's logger and uvicorn's access log go to stdout, uvicorn's
// server messages to stderr (as the real ones do), so both of the proxy's readers are exercised.
void say(const std::string& line, bool to_stderr = false);

}  // namespace standin
