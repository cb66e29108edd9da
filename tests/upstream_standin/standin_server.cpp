#include "standin_server.h"

#include "standin_payloads.h"

#include <Poco/Net/HTMLForm.h>
#include <Poco/Net/HTTPRequestHandler.h>
#include <Poco/Net/HTTPRequestHandlerFactory.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>
#include <Poco/Net/MessageHeader.h>
#include <Poco/Net/PartHandler.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/StreamCopier.h>

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>
#include <mutex>
#include <sstream>
#include <thread>

using nlohmann::json;

namespace standin {

namespace {

std::mutex g_mutex;  // guards g_control, g_requests, g_jobs
json g_control;
json g_requests = json::array();
struct standin_job {
    std::string status = "queued";
    int polls = 0;
    std::string prompt;
};
std::map<std::string, standin_job> g_jobs;
int g_job_seq = 0;
server_options g_opts;

json default_control() {
    return {{"health_status", 200},     {"disable", json::array()},  {"fail", json::object()},
            {"hang_ms", json::object()}, {"serialization_bug", false}, {"image_shape", "chat_list"},
            {"video_shape", "sync_mp4"}, {"video_job", "ok"},         {"audio_shape", "data_b64"},
            {"audio_generate", "wav"},  {"tts_shape", "wav"},         {"chat_shape", "sse"},
            {"chat_audio", true}};
}

json control() {
    std::lock_guard lock(g_mutex);
    return g_control;
}

const char* kSaveBug = "'numpy.ndarray' object has no attribute 'save'";

class file_part : public Poco::Net::PartHandler {
public:
    std::map<std::string, std::string> files;
    void handlePart(const Poco::Net::MessageHeader& header, std::istream& stream) override {
        std::string disp = header.get("Content-Disposition", "");
        std::string name;
        std::string params;
        Poco::Net::NameValueCollection nvc;
        Poco::Net::MessageHeader::splitParameters(disp, params, nvc);
        name = nvc.get("name", "file");
        std::string data;
        Poco::StreamCopier::copyToString(stream, data);
        files[name] = data;
    }
};

class standin_handler : public Poco::Net::HTTPRequestHandler {
public:
    void handleRequest(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res) override {
        std::string body;
        Poco::StreamCopier::copyToString(req.stream(), body);
        std::string path = req.getURI();
        if (auto q = path.find('?'); q != std::string::npos) path = path.substr(0, q);
        const std::string method = req.getMethod();
        int status = 200;
        try {
            if (path.rfind("/standin/", 0) != 0) record(req, path, body);
            status = dispatch(req, res, method, path, body);
        } catch (const std::exception& e) {
            status = 500;
            if (!res.sent()) send_json(res, 500, {{"detail", std::string("stand-in error: ") + e.what()}});
        }
        say("INFO:     " + req.clientAddress().host().toString() + ":" + std::to_string(req.clientAddress().port()) +
            " - \"" + method + " " + path + " HTTP/1.1\" " + std::to_string(status));
    }

private:
    static void record(const Poco::Net::HTTPServerRequest& req, const std::string& path, const std::string& body) {
        json r = {{"method", req.getMethod()},
                  {"path", path},
                  {"authorization", req.get("Authorization", "")},
                  {"content_type", req.getContentType()},
                  {"body", body.size() > (1 << 20) ? body.substr(0, 1 << 20) : body}};
        std::lock_guard lock(g_mutex);
        g_requests.push_back(r);
        if (g_requests.size() > 200) g_requests.erase(g_requests.begin());
    }

    static int send_json(Poco::Net::HTTPServerResponse& res, int status, const json& j) {
        res.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
        res.setContentType("application/json");
        std::string s = j.dump(-1, ' ', false, json::error_handler_t::replace);  // recorded bodies may be binary
        res.setContentLength(static_cast<std::streamsize>(s.size()));
        res.send() << s;
        return status;
    }

    static int send_bytes(Poco::Net::HTTPServerResponse& res, int status, const std::string& ct, const std::string& b) {
        res.setStatus(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
        res.setContentType(ct);
        res.setContentLength(static_cast<std::streamsize>(b.size()));
        res.send().write(b.data(), static_cast<std::streamsize>(b.size()));
        return status;
    }

    static int save_bug(Poco::Net::HTTPServerResponse& res) {
        return send_json(res, 500, {{"object", "error"},
                                    {"message", std::string("Image generation failed: ") + kSaveBug},
                                    {"type", "InternalServerError"},
                                    {"param", nullptr},
                                    {"code", 500}});
    }

    static json chat_response(const json& content, const json& audio = nullptr) {
        json msg = {{"role", "assistant"}, {"content", content}};
        if (!audio.is_null()) msg["audio"] = audio;
        return {{"id", "chatcmpl-standin"},
                {"object", "chat.completion"},
                {"created", 1700000000},
                {"model", g_opts.model},
                {"choices", json::array({{{"index", 0}, {"message", msg}, {"finish_reason", "stop"}}})},
                {"usage", {{"prompt_tokens", 1}, {"completion_tokens", 1}, {"total_tokens", 2}}}};
    }

    int dispatch(Poco::Net::HTTPServerRequest& req, Poco::Net::HTTPServerResponse& res, const std::string& method,
                 const std::string& path, const std::string& body) {
        // ---- steering endpoints (never authenticated, never failed) ----
        if (path == "/standin/control" && method == "POST") {
            json patch = json::parse(body);
            if (patch.contains("crash_now")) {
                int code = patch["crash_now"].get<int>();
                say("ERROR:    stand-in crashing on request with code " + std::to_string(code));
                std::fflush(stdout);
                _exit(code);
            }
            std::lock_guard lock(g_mutex);
            g_control.merge_patch(patch);
            return send_json(res, 200, g_control);
        }
        if (path == "/standin/reset" && method == "POST") {
            std::lock_guard lock(g_mutex);
            g_control = default_control();
            g_requests = json::array();
            return send_json(res, 200, g_control);
        }
        if (path == "/standin/requests") {
            std::lock_guard lock(g_mutex);
            return send_json(res, 200, g_requests);
        }
        if (path == "/standin/info")
            return send_json(res, 200, {{"argv", g_opts.argv}, {"env", g_opts.env}, {"pid", ::getpid()},
                                        {"model", g_opts.model}, {"port", g_opts.port}, {"host", g_opts.host},
                                        {"environment", g_opts.environment}, {"fds_at_start", g_opts.fds_at_start}});

        json ctl = control();
        if (ctl.contains("hang_ms") && ctl["hang_ms"].contains(path))
            std::this_thread::sleep_for(std::chrono::milliseconds(ctl["hang_ms"][path].get<int>()));
        for (const auto& d : ctl["disable"])
            if (d.get<std::string>() == path) return send_json(res, 404, {{"detail", "Not Found"}});
        if (ctl["fail"].contains(path)) {
            const json& f = ctl["fail"][path];
            // "repeat": the body that many times (large or deeply nested answers without sending them)
            std::string body = f.value("body", std::string("{\"detail\":\"injected failure\"}"));
            std::string whole = body;
            for (int i = 1; i < f.value("repeat", 1); ++i) whole += body;
            whole += f.value("suffix", std::string());
            return send_bytes(res, f.value("status", 500), f.value("content_type", "application/json"), whole);
        }
        if (path == "/health") {
            int hs = ctl["health_status"].get<int>();
            return send_bytes(res, hs, "text/plain", "");
        }
        if (!g_opts.api_key.empty() && path.rfind("/v1/", 0) == 0 &&
            req.get("Authorization", "") != "Bearer " + g_opts.api_key)
            return send_json(res, 401, {{"error", "Unauthorized"}});

        if (path == "/v1/models")
            return send_json(res, 200, {{"object", "list"},
                                        {"data", json::array({{{"id", g_opts.model},
                                                               {"object", "model"},
                                                               {"created", 1700000000},
                                                               {"owned_by", "vllm"},
                                                               {"root", g_opts.model},
                                                               {"max_model_len", g_opts.max_model_len}}})}});
        if (path == "/v1/chat/completions" && method == "POST") return chat(res, json::parse(body), ctl);
        if (path == "/v1/images/generations" && method == "POST") return images(res, json::parse(body), ctl);
        if (path == "/v1/images/edits" && method == "POST") {
            file_part parts;
            std::istringstream in(body);
            Poco::Net::HTMLForm form(req, in, parts);
            if (!parts.files.count("image")) return send_json(res, 400, {{"detail", "image file is required"}});
            auto [w, h] = size_of(form.get("size", "64x64"));
            return send_json(res, 200, {{"created", 1700000000},
                                        {"data", json::array({{{"b64_json", base64(make_png(w, h, 99))}}})}});
        }
        if ((path == "/v1/videos/sync" || path == "/v1/videos") && method == "POST") {
            file_part parts;
            std::istringstream in(body);
            Poco::Net::HTMLForm form(req, in, parts);
            if (form.get("prompt", "").empty()) return send_json(res, 400, {{"detail", "prompt is required"}});
            if (path == "/v1/videos/sync") {
                if (ctl["serialization_bug"].get<bool>()) return save_bug(res);
                if (ctl["video_shape"] == "sync_json")
                    return send_json(res, 200, {{"created", 1700000000},
                                                {"data", json::array({{{"b64_json", base64(sample_mp4())},
                                                                       {"url", nullptr},
                                                                       {"revised_prompt", nullptr}}})},
                                                {"stage_durations", json::object()},
                                                {"peak_memory_mb", 0.0}});
                res.set("X-Request-Id", "video-standin");
                res.set("X-Model", g_opts.model);
                return send_bytes(res, 200, "video/mp4", sample_mp4());
            }
            std::lock_guard lock(g_mutex);
            std::string id = "video_gen_" + std::to_string(++g_job_seq);
            g_jobs[id].prompt = form.get("prompt");
            return send_json(res, 200, job_json(id, g_jobs[id], ctl));
        }
        if (path.rfind("/v1/videos/", 0) == 0) return video_job(res, method, path, ctl);
        if (path == "/v1/audio/speech" && method == "POST") {
            json r = json::parse(body);
            if (!r.contains("input") || r["input"].get<std::string>().empty())
                return send_json(res, 400, {{"detail", "input is required"}});
            std::string shape = ctl["tts_shape"];
            if (shape == "json") return send_json(res, 200, {{"text", "not audio"}});
            if (shape == "empty") return send_bytes(res, 200, "audio/wav", "");
            std::string wav = make_wav(0.5, 24000, 1, 330.0);
            return send_bytes(res, 200, shape == "flac_ct" ? "audio/flac" : "audio/wav", wav);
        }
        if (path == "/v1/audio/generate" && method == "POST") {
            json r = json::parse(body);
            if (ctl["serialization_bug"].get<bool>()) return save_bug(res);
            double seconds = r.value("audio_length", 1.0);
            std::string wav = make_wav(std::min(seconds, 30.0), 44100, 2, 440.0);
            if (ctl["audio_generate"] == "json_data")
                return send_json(res, 200, {{"data", json::array({{{"b64_json", base64(wav)}}})}});
            return send_bytes(res, 200, "audio/wav", wav);
        }
        return send_json(res, 404, {{"detail", "Not Found"}});
    }

    static std::pair<int, int> size_of(const std::string& s) {
        auto x = s.find('x');
        if (x == std::string::npos) return {64, 64};
        return {std::stoi(s.substr(0, x)), std::stoi(s.substr(x + 1))};
    }

    // Called with g_mutex held: takes the behaviour as an argument instead of locking again.
    static json job_json(const std::string& id, const standin_job& j, const json& ctl) {
        json e = nullptr;
        if (j.status == "failed")
            e = {{"code", "internal_error"},
                 {"message", ctl["video_job"] == "serialization_bug" ? std::string("Video generation failed: ") + kSaveBug
                                                                            : std::string("injected job failure")}};
        return {{"id", id}, {"object", "video"}, {"status", j.status}, {"model", g_opts.model},
                {"prompt", j.prompt}, {"progress", j.status == "completed" ? 100 : j.status == "in_progress" ? 50 : 0},
                {"seconds", "4"}, {"created_at", 1700000000}, {"error", e}, {"media_type", "video/mp4"}};
    }

    int video_job(Poco::Net::HTTPServerResponse& res, const std::string& method, const std::string& path, const json& ctl) {
        std::string rest = path.substr(std::string("/v1/videos/").size());
        bool content = false;
        if (auto slash = rest.find('/'); slash != std::string::npos) {
            content = rest.substr(slash) == "/content";
            rest = rest.substr(0, slash);
        }
        std::unique_lock lock(g_mutex);
        auto it = g_jobs.find(rest);
        if (it == g_jobs.end()) return send_json(res, 404, {{"detail", "video not found"}});
        standin_job& j = it->second;
        if (method == "DELETE") {
            g_jobs.erase(it);
            return send_json(res, 200, {{"id", rest}, {"deleted", true}, {"object", "video.deleted"}});
        }
        if (content) {
            if (j.status != "completed") return send_json(res, 409, {{"detail", "video not ready"}});
            lock.unlock();
            return send_bytes(res, 200, "video/mp4", sample_mp4());
        }
        ++j.polls;
        if (j.status == "queued") j.status = "in_progress";
        else if (j.status == "in_progress") j.status = ctl["video_job"] == "ok" ? "completed" : "failed";
        return send_json(res, 200, job_json(rest, j, ctl));
    }

    int chat(Poco::Net::HTTPServerResponse& res, const json& r, const json& ctl) {
        const json extra = r.value("extra_body", json::object());
        if (extra.value("modality", "") == "video") {
            if (ctl["serialization_bug"].get<bool>()) return save_bug(res);
            std::string url = "data:video/mp4;base64," + base64(sample_mp4());
            if (ctl["video_shape"] == "chat_string") return send_json(res, 200, chat_response(base64(sample_mp4())));
            return send_json(res, 200, chat_response(json::array({{{"type", "video"}, {"video_url", {{"url", url}}}}})));
        }
        if (r.value("stream", false) || ctl["chat_shape"] == "json") return chat_text(res, r, ctl);
        // Diffusion image via chat: parameters from the literal extra_body or, SDK style, top level.
        auto param = [&](const char* k, int def) {
            if (extra.contains(k)) return extra[k].get<int>();
            return r.value(k, def);
        };
        int w = param("width", 1024), h = param("height", 1024);
        int seed = param("seed", 0);
        std::string png = base64(make_png(w, h, seed));
        std::string shape = ctl["image_shape"];
        if (shape == "chat_string") return send_json(res, 200, chat_response(png));
        if (shape == "chat_data_url_string") return send_json(res, 200, chat_response("data:image/png;base64," + png));
        if (shape == "chat_image_key") return send_json(res, 200, chat_response(json::array({{{"type", "image"}, {"image", png}}})));
        if (shape == "chat_empty") return send_json(res, 200, chat_response(json::array()));
        return send_json(res, 200, chat_response(json::array(
            {{{"type", "image_url"}, {"image_url", {{"url", "data:image/png;base64," + png}}}}})));
    }

    int chat_text(Poco::Net::HTTPServerResponse& res, const json& r, const json& ctl) {
        std::string last_user;
        for (const auto& m : r.value("messages", json::array()))
            if (m.value("role", "") == "user" && m["content"].is_string()) last_user = m["content"];
        const std::string answer = "Hello from the stand-in. You said: " + last_user;
        const std::string wav64 = base64(make_wav(0.25, 24000, 1, 550.0));
        std::string shape = ctl["chat_shape"];
        if (shape == "json" || !r.value("stream", false))
            return send_json(res, 200, chat_response(answer, ctl["chat_audio"].get<bool>()
                                                                 ? json{{"id", "audio-1"}, {"data", wav64}, {"format", "wav"}}
                                                                 : json()));
        res.setStatus(Poco::Net::HTTPResponse::HTTP_OK);
        res.setContentType("text/event-stream");
        res.set("Cache-Control", "no-cache");
        res.setChunkedTransferEncoding(true);
        std::ostream& out = res.send();
        auto event = [&](const json& delta) {
            json chunk = {{"id", "chatcmpl-standin"}, {"object", "chat.completion.chunk"}, {"model", g_opts.model},
                          {"choices", json::array({{{"index", 0}, {"delta", delta}, {"finish_reason", nullptr}}})}};
            out << "data: " << chunk.dump() << "\n\n";
            out.flush();
            std::this_thread::sleep_for(std::chrono::milliseconds(10));
        };
        if (shape == "error_event") {
            event({{"role", "assistant"}, {"content", "partial "}});
            out << "data: " << json{{"error", {{"message", "engine died mid-stream"}, {"code", 500}}}}.dump() << "\n\n";
            out.flush();
            return 200;
        }
        event({{"role", "assistant"}, {"content", ""}});
        std::istringstream words(answer);
        std::string word;
        bool first = true;
        while (words >> word) {
            event({{"content", (first ? "" : " ") + word}});
            first = false;
        }
        if (ctl["chat_audio"].get<bool>())
            event({{"content", json::array({{{"type", "audio"},
                                             {"audio_url", {{"url", "data:audio/wav;base64," + wav64}}}}})}});
        out << "data: [DONE]\n\n";
        out.flush();
        return 200;
    }

    int images(Poco::Net::HTTPServerResponse& res, const json& r, const json& ctl) {
        if (!r.contains("audio_end_in_s")) {
            auto [w, h] = size_of(r.value("size", std::string("1024x1024")));
            return send_json(res, 200, {{"created", 1700000000},
                                        {"data", json::array({{{"b64_json", base64(make_png(w, h, r.value("seed", 0)))},
                                                               {"url", nullptr},
                                                               {"revised_prompt", nullptr}}})}});
        }
        // Audio through the images route (the playground's Stable Audio API path).
        if (ctl["serialization_bug"].get<bool>()) return save_bug(res);
        double seconds = std::min(r.value("audio_end_in_s", 1.0) - r.value("audio_start_in_s", 0.0), 30.0);
        const std::string wav = make_wav(seconds, 44100, 2, 440.0);
        const std::string b64 = base64(wav);
        const std::string url = "data:audio/wav;base64," + b64;
        std::string shape = ctl["audio_shape"];
        if (shape == "data_url") return send_json(res, 200, {{"data", json::array({{{"url", url}}})}});
        if (shape == "message_audio")
            return send_json(res, 200, chat_response(nullptr, {{"data", b64}, {"format", "wav"}}));
        if (shape == "message_audio_string") return send_json(res, 200, chat_response(nullptr, b64));
        if (shape == "content_audio_url")
            return send_json(res, 200, chat_response(json::array({{{"type", "audio_url"}, {"audio_url", {{"url", url}}}}})));
        if (shape == "content_image_url_audio")
            return send_json(res, 200, chat_response(json::array({{{"type", "image_url"}, {"image_url", {{"url", url}}}}})));
        if (shape == "content_string") return send_json(res, 200, chat_response(url));
        if (shape == "top_audio_dict") return send_json(res, 200, {{"audio", {{"data", b64}, {"format", "wav"}}}});
        if (shape == "top_audio_string") return send_json(res, 200, {{"audio", b64}});
        if (shape == "image_instead")  // the stage-config bug: final_output_type image
            return send_json(res, 200, {{"data", json::array({{{"b64_json", base64(make_png(8, 8, 1))}}})}});
        if (shape == "error_key") return send_json(res, 200, {{"error", {{"message", "CUDA out of memory"}}}});
        if (shape == "empty") return send_json(res, 200, {{"data", json::array()}});
        return send_json(res, 200, {{"created", 1700000000}, {"data", json::array({{{"b64_json", b64}}})}});
    }
};

class standin_handler_factory : public Poco::Net::HTTPRequestHandlerFactory {
public:
    Poco::Net::HTTPRequestHandler* createRequestHandler(const Poco::Net::HTTPServerRequest&) override {
        return new standin_handler;
    }
};

}  // namespace

void say(const std::string& line, bool to_stderr) {
    static std::mutex m;
    std::lock_guard lock(m);
    FILE* out = to_stderr ? stderr : stdout;
    std::fputs((line + "\n").c_str(), out);
    std::fflush(out);
}

void start_server(const server_options& options) {
    g_opts = options;
    g_control = default_control();
    g_control.merge_patch(options.initial_control);
    Poco::Net::ServerSocket socket;
    socket.bind(Poco::Net::SocketAddress(options.host, static_cast<Poco::UInt16>(options.port)), true);
    socket.listen(64);
    auto* params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(16);
    params->setMaxQueued(64);
    params->setKeepAlive(true);
    // Leaked on purpose: the process ends with _exit on a signal, like a killed server.
    auto* server = new Poco::Net::HTTPServer(new standin_handler_factory, socket, params);
    server->start();
}

}  // namespace standin
