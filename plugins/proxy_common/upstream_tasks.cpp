#include "upstream_tasks.h"

#include "codec.h"
#include "json_fields.h"
#include "media_parsers.h"
#include "sse.h"

#include <common/json_limits.h>

#include <algorithm>
#include <thread>

namespace omnihost::proxy {

using nlohmann::json;
using mono_clock = std::chrono::steady_clock;
using std::chrono::milliseconds;

namespace {

struct task_context {
    const upstream_client& client;
    const std::string& model;
    const json& req;
    const task_timeouts& timeouts;
    const task_hooks& hooks;

    bool cancelled() const { return hooks.cancelled && hooks.cancelled(); }
    void log(omnihost_log_level l, const std::string& m) const {
        if (hooks.log) hooks.log(l, m);
    }
    void progress(int step, int total, const std::string& msg) const {
        if (hooks.progress) hooks.progress(step, total, "upstream", msg);
    }
};

double seconds_since(mono_clock::time_point t0) {
    return std::chrono::duration<double>(mono_clock::now() - t0).count();
}

std::string timeout_key(const std::string& task) { return task + "_timeout_s"; }

// Performs one HTTP call, turning transport failures into ProxyErrors.
client_response call(const task_context& c, const client_request& r, milliseconds timeout, const std::string& task,
                  const line_sink* lines = nullptr) {
    try {
        if (lines) return c.client.send_streaming(r, timeout, c.hooks.cancelled, *lines);
        return c.client.send(r, timeout, c.hooks.cancelled);
    } catch (const transport_error& e) {
        switch (e.kind()) {
        case transport_failure::cancelled:
            throw proxy_error(OMNIHOST_CANCELLED, "cancelled");
        case transport_failure::timeout:
            throw proxy_error(OMNIHOST_UNAVAILABLE,
                             task + " generation timed out after " + std::to_string(timeout.count() / 1000) +
                                 " s waiting for " + r.path + " (raise " + timeout_key(task) + " to allow more)");
        case transport_failure::connect:
            throw proxy_error(OMNIHOST_UNAVAILABLE, std::string("Connection error: ") + e.what());
        case transport_failure::too_large:
            throw proxy_error(OMNIHOST_INTERNAL, std::string("Refused the upstream answer: ") + e.what());
        default:
            throw proxy_error(OMNIHOST_UNAVAILABLE, std::string("Connection error: ") + e.what());
        }
    }
}

client_request json_post(const std::string& path, const json& body) {
    client_request r;
    r.method = "POST";
    r.path = path;
    r.body = body.dump();
    r.content_type = "application/json";
    return r;
}

client_request form_post(const std::string& path, const multipart_form& form) {
    client_request r;
    r.method = "POST";
    r.path = path;
    r.body = form.body();
    r.content_type = form.content_type();
    return r;
}

bool ok(const client_response& r) { return r.status >= 200 && r.status < 300; }
bool missing_route(const client_response& r) { return r.status == 404 || r.status == 405; }

json parse_body(const client_response& r, const std::string& endpoint) {
    try {
        return omnihost::parse_json_bounded(r.body);
    } catch (const std::exception& e) {
        throw proxy_error(OMNIHOST_INTERNAL, "Failed to parse response from " + endpoint + ": " + e.what());
    }
}

bool is_binary_media(const client_response& r, const std::string& kind) {
    const std::string& ct = r.content_type;
    if (ct.rfind(kind + "/", 0) == 0 || ct.find("octet-stream") != std::string::npos) return true;
    return ct.find("json") == std::string::npos && sniff_mime(r.body).rfind(kind + "/", 0) == 0;
}

std::string required_text(const json& req, const char* key, const char* alt = nullptr) {
    std::string v = get_string(req, key);
    if (v.empty() && alt) v = get_string(req, alt);
    if (v.find_first_not_of(" \t\r\n") == std::string::npos) throw invalid_field(key, "is required");
    return v;
}

task_result finish(std::string bytes, std::string mime, json meta, mono_clock::time_point t0) {
    meta["generation_time"] = seconds_since(t0);
    meta["mime_type"] = mime;
    meta["size_bytes"] = bytes.size();
    return {std::move(bytes), std::move(mime), std::move(meta)};
}

// ---- image ---------------------------------------------------------------------------------

task_result run_image(const task_context& c) {
    const auto t0 = mono_clock::now();
    std::string prompt = required_text(c.req, "prompt");
    int width = static_cast<int>(get_int(c.req, "width", 1024, 8, 8192));
    int height = static_cast<int>(get_int(c.req, "height", 1024, 8, 8192));
    int steps = static_cast<int>(get_int(c.req, "num_inference_steps", 50, 1, 1000));
    double guidance = get_number(c.req, "guidance_scale", 4.0, 0.0, 100.0);
    std::string negative = get_string(c.req, "negative_prompt");
    std::string input_image = get_string(c.req, "input_image");
    const bool has_seed = has_field(c.req, "seed");
    long long seed = get_int(c.req, "seed", 0, 0, (1LL << 53));
    if (!input_image.empty() && input_image.rfind("data:", 0) != 0)
        input_image = "data:image/png;base64," + input_image;

    json extra = {{"height", height}, {"width", width}, {"num_inference_steps", steps}, {"guidance_scale", guidance}};
    if (has_seed) extra["seed"] = seed;
    if (!negative.empty()) extra["negative_prompt"] = negative;
    json content = prompt;
    if (!input_image.empty())
        content = json::array({{{"type", "image_url"}, {"image_url", {{"url", input_image}}}},
                               {{"type", "text"}, {"text", prompt}}});
    json body = {{"model", c.model},
                 {"messages", json::array({{{"role", "user"}, {"content", content}}})},
                 {"extra_body", extra}};
    json meta = {{"width", width}, {"height", height}, {"model", c.model}, {"seed", has_seed ? json(seed) : json()}};

    c.progress(0, 0, "POST /v1/chat/completions");
    client_response r = call(c, json_post("/v1/chat/completions", body), c.timeouts.image, "image");
    if (ok(r)) {
        media_payload p = parse_image_response(parse_body(r, "/v1/chat/completions"));
        meta["endpoint"] = "/v1/chat/completions";
        return finish(std::move(p.bytes), p.mime, meta, t0);
    }
    if (!missing_route(r)) throw upstream_http_error(r.status, r.body, "image", "/v1/chat/completions");

    client_response r2;
    std::string endpoint;
    if (input_image.empty()) {
        endpoint = "/v1/images/generations";
        json gen = {{"model", c.model}, {"prompt", prompt}, {"n", 1},
                    {"size", std::to_string(width) + "x" + std::to_string(height)},
                    {"response_format", "b64_json"}, {"num_inference_steps", steps}, {"guidance_scale", guidance}};
        if (has_seed) gen["seed"] = seed;
        if (!negative.empty()) gen["negative_prompt"] = negative;
        c.log(OMNIHOST_LOG_INFO, "chat/completions answered " + std::to_string(r.status) + "; using " + endpoint);
        r2 = call(c, json_post(endpoint, gen), c.timeouts.image, "image");
    } else {
        endpoint = "/v1/images/edits";
        parsed_data_url url = parse_data_url(input_image);
        multipart_form form;
        form.add_field("model", c.model);
        form.add_field("prompt", prompt);
        form.add_field("n", "1");
        form.add_field("size", std::to_string(width) + "x" + std::to_string(height));
        form.add_field("response_format", "b64_json");
        form.add_field("num_inference_steps", std::to_string(steps));
        form.add_field("guidance_scale", json(guidance).dump());
        if (has_seed) form.add_field("seed", std::to_string(seed));
        if (!negative.empty()) form.add_field("negative_prompt", negative);
        std::string image_bytes;
        try {
            image_bytes = base64_decode(url.payload);
        } catch (const std::exception&) {
            throw invalid_field("input_image", "is not valid base64");
        }
        form.add_file("image", "input.png", url.mime.empty() ? "image/png" : url.mime, image_bytes);
        c.log(OMNIHOST_LOG_INFO, "chat/completions answered " + std::to_string(r.status) + "; using " + endpoint);
        r2 = call(c, form_post(endpoint, form), c.timeouts.image, "image");
    }
    if (!ok(r2)) throw upstream_http_error(r2.status, r2.body, "image", endpoint);
    media_payload p = parse_image_response(parse_body(r2, endpoint));
    meta["endpoint"] = endpoint;
    return finish(std::move(p.bytes), p.mime, meta, t0);
}

// ---- video ---------------------------------------------------------------------------------

struct video_params {
    std::string prompt, negative;
    int duration, fps, width, height, steps;
    double guidance;
    bool has_seed;
    long long seed;
    bool has_flow_shift;
    double flow_shift;
};

video_params read_video(const json& req) {
    video_params v;
    v.prompt = required_text(req, "prompt");
    v.negative = get_string(req, "negative_prompt");
    v.duration = static_cast<int>(get_int(req, "duration", 4, 1, 600));
    v.fps = static_cast<int>(get_int(req, "fps", 16, 1, 240));
    v.height = static_cast<int>(get_int(req, "height", 480, 16, 8192));
    v.width = static_cast<int>(get_int(req, "width", 640, 16, 8192));
    v.steps = static_cast<int>(get_int(req, "num_inference_steps", 30, 1, 1000));
    v.guidance = get_number(req, "guidance_scale", 4.0, 0.0, 100.0);
    v.has_seed = has_field(req, "seed");
    v.seed = get_int(req, "seed", 0, 0, (1LL << 53));
    v.has_flow_shift = has_field(req, "flow_shift");
    v.flow_shift = get_number(req, "flow_shift", 0.0, 0.0, 1000.0);
    return v;
}

multipart_form video_form(const task_context& c, const video_params& v) {
    multipart_form f;
    f.add_field("prompt", v.prompt);
    f.add_field("model", c.model);
    f.add_field("seconds", std::to_string(v.duration));
    f.add_field("size", std::to_string(v.width) + "x" + std::to_string(v.height));
    f.add_field("width", std::to_string(v.width));
    f.add_field("height", std::to_string(v.height));
    f.add_field("fps", std::to_string(v.fps));
    f.add_field("num_frames", std::to_string(v.duration * v.fps));
    f.add_field("num_inference_steps", std::to_string(v.steps));
    f.add_field("guidance_scale", json(v.guidance).dump());
    if (v.has_seed) f.add_field("seed", std::to_string(v.seed));
    if (!v.negative.empty()) f.add_field("negative_prompt", v.negative);
    if (v.has_flow_shift) f.add_field("flow_shift", json(v.flow_shift).dump());
    return f;
}

media_payload video_from_answer(const client_response& r, const std::string& endpoint) {
    if (is_binary_media(r, "video")) {
        if (r.body.empty()) throw proxy_error(OMNIHOST_INTERNAL, "No video data returned by " + endpoint);
        std::string mime = sniff_mime(r.body);
        return {r.body, mime.empty() ? "video/mp4" : mime};
    }
    return parse_video_response(parse_body(r, endpoint));
}

void sleep_or_cancel(const task_context& c, milliseconds d) {
    auto until = mono_clock::now() + d;
    while (mono_clock::now() < until) {
        if (c.cancelled()) throw proxy_error(OMNIHOST_CANCELLED, "cancelled");
        std::this_thread::sleep_for(std::min<milliseconds>(milliseconds(100), d));
    }
}

std::optional<media_payload> video_async(const task_context& c, const video_params& v, mono_clock::time_point deadline) {
    client_response r = call(c, form_post("/v1/videos", video_form(c, v)), c.timeouts.video, "video");
    if (missing_route(r)) return std::nullopt;
    if (!ok(r)) throw upstream_http_error(r.status, r.body, "video", "/v1/videos");
    upstream_video_job job = parse_video_job(parse_body(r, "/v1/videos"));
    c.log(OMNIHOST_LOG_INFO, "video job " + job.id + " " + job.status);
    const std::string item = "/v1/videos/" + job.id;
    for (;;) {
        if (job.status == "completed") break;
        if (job.status == "failed") {
            if (is_serialization_bug(job.error)) throw serialization_bug_error("video", item);
            throw proxy_error(OMNIHOST_INTERNAL, "video job " + job.id + " failed: " + job.error);
        }
        if (mono_clock::now() >= deadline)
            throw proxy_error(OMNIHOST_UNAVAILABLE, "video generation timed out after " +
                                                       std::to_string(c.timeouts.video.count() / 1000) +
                                                       " s waiting for job " + job.id + " (raise video_timeout_s)");
        c.progress(job.progress, 100, "video job " + job.status);
        try {
            sleep_or_cancel(c, c.timeouts.video_poll);
        } catch (const proxy_error&) {
            client_request del;
            del.method = "DELETE";
            del.path = item;
            try {
                c.client.send(del, std::chrono::seconds(5));
            } catch (...) {
            }
            throw;
        }
        auto left = std::chrono::duration_cast<milliseconds>(deadline - mono_clock::now());
        client_response s = call(c, client_request{"GET", item, "", "", {}},
                              std::max(milliseconds(1000), std::min(left, milliseconds(30000))), "video");
        if (!ok(s)) throw upstream_http_error(s.status, s.body, "video", item);
        job = parse_video_job(parse_body(s, item));
    }
    c.progress(100, 100, "video job completed");
    client_response content = call(c, client_request{"GET", item + "/content", "", "", {}}, c.timeouts.video, "video");
    if (!ok(content)) throw upstream_http_error(content.status, content.body, "video", item + "/content");
    return video_from_answer(content, item + "/content");
}

task_result run_video(const task_context& c) {
    const auto t0 = mono_clock::now();
    const auto deadline = t0 + c.timeouts.video;
    video_params v = read_video(c.req);
    json meta = {{"duration", v.duration}, {"fps", v.fps}, {"num_frames", v.duration * v.fps},
                 {"width", v.width}, {"height", v.height}, {"model", c.model},
                 {"seed", v.has_seed ? json(v.seed) : json()}};

    c.progress(0, 0, "POST /v1/videos/sync");
    client_response r = call(c, form_post("/v1/videos/sync", video_form(c, v)), c.timeouts.video, "video");
    if (ok(r)) {
        media_payload p = video_from_answer(r, "/v1/videos/sync");
        meta["endpoint"] = "/v1/videos/sync";
        return finish(std::move(p.bytes), p.mime, meta, t0);
    }
    if (!missing_route(r)) throw upstream_http_error(r.status, r.body, "video", "/v1/videos/sync");

    c.log(OMNIHOST_LOG_INFO, "/v1/videos/sync answered " + std::to_string(r.status) + "; trying the async /v1/videos");
    if (auto p = video_async(c, v, deadline)) {
        meta["endpoint"] = "/v1/videos";
        return finish(std::move(p->bytes), p->mime, meta, t0);
    }

    c.log(OMNIHOST_LOG_INFO, "no videos API; falling back to /v1/chat/completions with modality video");
    json extra = {{"modality", "video"}, {"num_frames", v.duration * v.fps}, {"height", v.height},
                  {"width", v.width}, {"fps", v.fps}, {"num_inference_steps", v.steps},
                  {"guidance_scale", v.guidance}};
    if (!v.negative.empty()) extra["negative_prompt"] = v.negative;
    if (v.has_seed) extra["seed"] = v.seed;
    json body = {{"model", c.model}, {"messages", json::array({{{"role", "user"}, {"content", v.prompt}}})},
                 {"temperature", 0.7}, {"max_tokens", 1024}, {"extra_body", extra}};
    auto left = std::max(milliseconds(1000), std::chrono::duration_cast<milliseconds>(deadline - mono_clock::now()));
    client_response r3 = call(c, json_post("/v1/chat/completions", body), left, "video");
    if (!ok(r3)) throw upstream_http_error(r3.status, r3.body, "video", "/v1/chat/completions");
    media_payload p = parse_video_response(parse_body(r3, "/v1/chat/completions"));
    meta["endpoint"] = "/v1/chat/completions";
    return finish(std::move(p.bytes), p.mime, meta, t0);
}

// ---- speech and audio ----------------------------------------------------------------------

task_result run_tts(const task_context& c) {
    const auto t0 = mono_clock::now();
    std::string text = required_text(c.req, "text", "prompt");
    std::string voice = get_string(c.req, "voice", "Vivian");
    if (voice.empty()) voice = "Vivian";
    double speed = get_number(c.req, "speed", 1.0, 0.25, 4.0);
    std::string instructions = get_string(c.req, "instructions");
    json body = {{"model", c.model}, {"input", text}, {"voice", voice}, {"response_format", "wav"}};
    if (speed != 1.0) body["speed"] = speed;
    if (!instructions.empty()) body["instructions"] = instructions;

    c.progress(0, 0, "POST /v1/audio/speech");
    client_response r = call(c, json_post("/v1/audio/speech", body), c.timeouts.tts, "tts");
    if (!ok(r)) throw upstream_http_error(r.status, r.body, "speech", "/v1/audio/speech");
    std::string mime = audio_mime_from_content_type(r.content_type);
    if (mime.empty())
        throw proxy_error(OMNIHOST_INTERNAL, "Unexpected response format: " + r.content_type +
                                                ". Response: " + r.body.substr(0, 500));
    if (r.body.empty()) throw proxy_error(OMNIHOST_INTERNAL, "No audio data returned");
    json meta = {{"duration", nullptr}, {"voice", voice}, {"model", c.model}, {"endpoint", "/v1/audio/speech"}};
    return finish(std::move(r.body), mime, meta, t0);
}

task_result run_audio(const task_context& c) {
    const auto t0 = mono_clock::now();
    std::string text = required_text(c.req, "text", "prompt");
    double duration = get_number(c.req, "audio_duration", 10.0, 0.1, 600.0);
    int steps = static_cast<int>(get_int(c.req, "num_inference_steps", 50, 1, 1000));
    double guidance = get_number(c.req, "guidance_scale", 7.0, 0.0, 100.0);
    std::string negative = get_string(c.req, "negative_prompt", "low quality, average quality");
    const bool has_seed = has_field(c.req, "seed");
    long long seed = get_int(c.req, "seed", 0, 0, (1LL << 53));
    json meta = {{"duration", duration}, {"model", c.model}, {"seed", has_seed ? json(seed) : json()}};

    json body = {{"model", c.model}, {"input", text}, {"response_format", "wav"}, {"audio_length", duration},
                 {"audio_start", 0.0}, {"num_inference_steps", steps}, {"guidance_scale", guidance}};
    if (!negative.empty()) body["negative_prompt"] = negative;
    if (has_seed) body["seed"] = seed;
    c.progress(0, 0, "POST /v1/audio/generate");
    client_response r = call(c, json_post("/v1/audio/generate", body), c.timeouts.audio, "audio");
    if (ok(r)) {
        meta["endpoint"] = "/v1/audio/generate";
        if (is_binary_media(r, "audio")) {
            if (r.body.empty()) throw proxy_error(OMNIHOST_INTERNAL, "No audio data returned");
            std::string mime = audio_mime_from_content_type(r.content_type);
            if (mime.empty() || mime == "audio/wav") {
                std::string sniffed = sniff_mime(r.body);
                if (!sniffed.empty()) mime = sniffed;
            }
            return finish(std::move(r.body), mime.empty() ? "audio/wav" : mime, meta, t0);
        }
        media_payload p = parse_audio_response(parse_body(r, "/v1/audio/generate"));
        return finish(std::move(p.bytes), p.mime, meta, t0);
    }
    if (!missing_route(r)) throw upstream_http_error(r.status, r.body, "audio", "/v1/audio/generate");

    c.log(OMNIHOST_LOG_INFO, "/v1/audio/generate answered " + std::to_string(r.status) +
                                 "; using /v1/images/generations with top-level audio parameters");
    json gen = {{"model", c.model}, {"prompt", text}, {"n", 1}, {"response_format", "b64_json"},
                {"audio_end_in_s", duration}, {"audio_start_in_s", 0.0}, {"num_inference_steps", steps},
                {"guidance_scale", guidance}};
    if (!negative.empty()) gen["negative_prompt"] = negative;
    if (has_seed) gen["seed"] = seed;
    client_response r2 = call(c, json_post("/v1/images/generations", gen), c.timeouts.audio, "audio");
    if (!ok(r2)) throw upstream_http_error(r2.status, r2.body, "audio", "/v1/images/generations");
    c.log(OMNIHOST_LOG_DEBUG, "audio response: " + r2.body.substr(0, 1000));
    media_payload p = parse_audio_response(parse_body(r2, "/v1/images/generations"));
    meta["endpoint"] = "/v1/images/generations";
    return finish(std::move(p.bytes), p.mime, meta, t0);
}

// ---- chat ----------------------------------------------------------------------------------

task_result run_chat(const task_context& c) {
    const auto t0 = mono_clock::now();
    if (!has_field(c.req, "messages") || !c.req["messages"].is_array() || c.req["messages"].empty())
        throw invalid_field("messages", "must be a non-empty array of {role, content}");
    for (const auto& m : c.req["messages"])
        if (!m.is_object() || !m.contains("role") || !m.contains("content"))
            throw invalid_field("messages", "every message needs role and content");
    double temperature = get_number(c.req, "temperature", 0.7, 0.0, 2.0);
    int max_tokens = static_cast<int>(get_int(c.req, "max_tokens", 512, 1, 1 << 20));
    json body = {{"model", c.model}, {"messages", c.req["messages"]}, {"temperature", temperature},
                 {"max_tokens", max_tokens}, {"stream", true}};

    std::string full_text, last_audio_format, raw, stream_error;
    int audio_chunks = 0;
    bool done = false;
    auto on_piece = [&](const chat_piece& p) {
        if (!p.text.empty()) {
            full_text += p.text;
            if (c.hooks.emit) c.hooks.emit(json{{"text", p.text}}.dump());
        }
        if (!p.audio_b64.empty()) {
            ++audio_chunks;
            last_audio_format = p.audio_format;
            if (c.hooks.emit) c.hooks.emit(json{{"audio", p.audio_b64}, {"audio_format", p.audio_format}}.dump());
        }
    };
    sse_parser sse([&](const std::string& data) {
        if (done || !stream_error.empty()) return;
        if (data == "[DONE]") {
            done = true;
            return;
        }
        json chunk;
        try {
            chunk = omnihost::parse_json_bounded(data);
        } catch (const std::exception&) {
            c.log(OMNIHOST_LOG_WARN, "chat: ignoring a non-JSON event: " + data.substr(0, 200));
            return;
        }
        if (chunk.contains("error") && !chunk["error"].is_null()) {
            stream_error = upstream_error_text(chunk.dump());
            return;
        }
        for (const auto& p : parse_chat_pieces(chunk)) on_piece(p);
    }, std::min(sse_parser::kDefaultMaxEventBytes, c.client.max_body_bytes()));  // one event, many data lines: the operator's answer limit
    line_sink lines = [&](const std::string& line) {
        if (line.empty() || line.rfind("data:", 0) == 0 || line[0] == ':' || line.rfind("event:", 0) == 0 ||
            line.rfind("id:", 0) == 0)
            sse.feed_line(line);
        else
            raw += line + "\n";  // not SSE: the upstream ignored stream:true and sent one JSON
    };
    c.progress(0, 0, "POST /v1/chat/completions (stream)");
    client_request hr = json_post("/v1/chat/completions", body);
    hr.headers.push_back({"Accept", "text/event-stream"});
    client_response r = call(c, hr, c.timeouts.chat, "chat", &lines);
    sse.finish();
    if (!ok(r)) throw upstream_http_error(r.status, r.body, "chat", "/v1/chat/completions");
    if (!stream_error.empty()) throw proxy_error(OMNIHOST_INTERNAL, "vLLM-Omni chat error: " + stream_error);
    if (!raw.empty()) {
        json whole = parse_body(client_response{200, "", "", raw, {}}, "/v1/chat/completions");
        if (whole.contains("error") && !whole["error"].is_null())
            throw proxy_error(OMNIHOST_INTERNAL, "vLLM-Omni chat error: " + upstream_error_text(raw));
        for (const auto& p : parse_chat_pieces(whole)) on_piece(p);
    }
    // The audio went out as {"audio"} events; the result itself carries no payload (the ABI's
    // chat convention), so a host that also forwards result bytes does not send it twice.
    json meta = {{"text", full_text}, {"audio_chunks", audio_chunks}, {"model", c.model},
                 {"endpoint", "/v1/chat/completions"}};
    if (!last_audio_format.empty()) meta["audio_format"] = last_audio_format;
    return finish(std::string(), "text/plain; charset=utf-8", meta, t0);
}

}  // namespace

task_timeouts read_task_timeouts(const json& j, task_timeouts t) {
    auto read = [&](const char* key, milliseconds& out) {
        if (has_field(j, key)) out = milliseconds(static_cast<long long>(get_number(j, key, 0, 0.05, 86400) * 1000));
    };
    read("image_timeout_s", t.image);
    read("video_timeout_s", t.video);
    read("tts_timeout_s", t.tts);
    read("audio_timeout_s", t.audio);
    read("chat_timeout_s", t.chat);
    read("video_poll_interval_s", t.video_poll);
    return t;
}

task_result run_upstream_task(const upstream_client& client, const std::string& model, const json& request,
                             const task_timeouts& timeouts, const task_hooks& hooks) {
    if (!request.is_object()) throw invalid_field("request", "must be a JSON object");
    std::string task = get_string(request, "task");
    task_context c{client, model, request, timeouts, hooks};
    if (task == "image") return run_image(c);
    if (task == "video") return run_video(c);
    if (task == "tts") return run_tts(c);
    if (task == "audio") return run_audio(c);
    if (task == "chat") return run_chat(c);
    throw invalid_field("task", "must be one of image, video, tts, audio, chat (got '" + task + "')");
}

}  // namespace omnihost::proxy
