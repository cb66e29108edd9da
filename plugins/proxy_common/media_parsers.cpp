#include "media_parsers.h"

#include "codec.h"

#include <common/json_limits.h>

#include <algorithm>
#include <cmath>
#include <optional>

namespace omnihost::proxy {

using nlohmann::json;

namespace {

std::string lower(std::string s) {
    std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
    return s;
}

bool starts_with(const std::string& s, const std::string& p) { return s.rfind(p, 0) == 0; }

const json* find_path(const json& j, std::initializer_list<const char*> keys) {
    const json* cur = &j;
    for (const char* k : keys) {
        if (!cur->is_object() || !cur->contains(k)) return nullptr;
        cur = &(*cur)[k];
    }
    return cur;
}

std::string str_or_empty(const json* j) { return (j && j->is_string()) ? j->get<std::string>() : ""; }

// A data: URL or bare base64 -> bytes + MIME (from the URL, else sniffed).
media_payload decode_media(const std::string& text, const std::string& what) {
    media_payload out;
    parsed_data_url url = parse_data_url(text);
    try {
        out.bytes = base64_decode(url.ok ? url.payload : text);
    } catch (const std::exception&) {
        throw proxy_error(OMNIHOST_INTERNAL, "Failed to parse response: " + what + " is not base64");
    }
    if (out.bytes.empty()) throw proxy_error(OMNIHOST_INTERNAL, "Failed to parse response: empty " + what);
    std::string sniffed = sniff_mime(out.bytes);
    out.mime = !sniffed.empty() ? sniffed : (url.ok && !url.mime.empty() ? url.mime : "");
    return out;
}

const json* first_choice_message(const json& r) {
    if (!r.is_object() || !r.contains("choices") || !r["choices"].is_array() || r["choices"].empty())
        return nullptr;
    const json& c = r["choices"][0];
    if (c.contains("message")) return &c["message"];
    if (c.contains("delta")) return &c["delta"];
    return nullptr;
}

void throw_if_error_object(const json& r, const std::string& prefix) {
    if (!r.is_object() || !r.contains("error") || r["error"].is_null()) return;
    const json& e = r["error"];
    std::string msg = e.is_string() ? e.get<std::string>()
                      : e.is_object() && e.contains("message") ? e["message"].dump() : e.dump();
    if (e.is_object() && e.contains("message") && e["message"].is_string())
        msg = e["message"].get<std::string>();
    if (is_serialization_bug(msg)) throw serialization_bug_error(prefix, "response");
    throw proxy_error(OMNIHOST_INTERNAL, "Generation failed: " + msg);
}

media_payload require_kind(media_payload p, const std::string& kind, const std::string& shape) {
    if (p.mime.empty()) p.mime = kind == "image" ? "image/png" : kind == "video" ? "video/mp4" : "audio/wav";
    if (!starts_with(p.mime, kind + "/") && p.mime != "application/octet-stream") {
        std::string hint;
        if (kind == "audio" && starts_with(p.mime, "image/"))
            hint = " (the upstream stage's final_output_type is probably 'image'; audio models need an "
                   "audio stage config or the in-process run mode)";
        throw proxy_error(OMNIHOST_INTERNAL, "upstream returned " + p.mime + " where " + kind +
                                                " was expected in " + shape + hint);
    }
    return p;
}

}  // namespace

media_payload parse_image_response(const json& r) {
    throw_if_error_object(r, "image");
    if (const json* msg = first_choice_message(r)) {
        const json* content = find_path(*msg, {"content"});
        if (content && content->is_array()) {
            for (const json& part : *content) {
                std::string url = str_or_empty(find_path(part, {"image_url", "url"}));
                if (url.empty()) url = str_or_empty(find_path(part, {"image"}));
                if (!url.empty())
                    return require_kind(decode_media(url, "image"), "image", "choices[0].message.content");
            }
            throw proxy_error(OMNIHOST_INTERNAL, "No image data in response (content list has no image_url)");
        }
        if (content && content->is_string() && !content->get<std::string>().empty())
            return require_kind(decode_media(content->get<std::string>(), "image"), "image",
                                "choices[0].message.content");
        throw proxy_error(OMNIHOST_INTERNAL, "No image data in response (empty message content)");
    }
    if (r.is_object() && r.contains("data") && r["data"].is_array() && !r["data"].empty()) {
        const json& d = r["data"][0];
        std::string b64 = str_or_empty(find_path(d, {"b64_json"}));
        if (b64.empty()) b64 = str_or_empty(find_path(d, {"url"}));
        if (!b64.empty()) return require_kind(decode_media(b64, "image"), "image", "data[0]");
    }
    throw proxy_error(OMNIHOST_INTERNAL, "No image data in response");
}

media_payload parse_video_response(const json& r) {
    throw_if_error_object(r, "video");
    if (const json* msg = first_choice_message(r)) {
        const json* content = find_path(*msg, {"content"});
        if (content && content->is_array()) {
            // Prefer an item typed "video"; accept any item carrying a video_url.
            for (int pass = 0; pass < 2; ++pass) {
                for (const json& part : *content) {
                    if (pass == 0 && str_or_empty(find_path(part, {"type"})) != "video") continue;
                    std::string url = str_or_empty(find_path(part, {"video_url", "url"}));
                    if (!url.empty())
                        return require_kind(decode_media(url, "video"), "video", "choices[0].message.content");
                }
            }
            throw proxy_error(OMNIHOST_INTERNAL, "No video data in response");
        }
        if (content && content->is_string() && !content->get<std::string>().empty())
            return require_kind(decode_media(content->get<std::string>(), "video"), "video",
                                "choices[0].message.content");
        throw proxy_error(OMNIHOST_INTERNAL, "No video data in response");
    }
    if (r.is_object() && r.contains("data") && r["data"].is_array() && !r["data"].empty()) {
        std::string b64 = str_or_empty(find_path(r["data"][0], {"b64_json"}));
        if (b64.empty()) b64 = str_or_empty(find_path(r["data"][0], {"url"}));
        if (!b64.empty()) return require_kind(decode_media(b64, "video"), "video", "data[0]");
        throw proxy_error(OMNIHOST_INTERNAL, "No video data in response");
    }
    throw proxy_error(OMNIHOST_INTERNAL, "No choices in response");
}

media_payload parse_audio_response(const json& r) {
    throw_if_error_object(r, "audio");
    auto from_dict = [](const json& a, const std::string& shape) -> std::optional<media_payload> {
        std::string b64 = str_or_empty(find_path(a, {"data"}));
        if (b64.empty()) b64 = str_or_empty(find_path(a, {"url"}));
        if (b64.empty()) return std::nullopt;
        media_payload p = decode_media(b64, "audio");
        std::string fmt = str_or_empty(find_path(a, {"format"}));
        if (p.mime.empty() && !fmt.empty()) p.mime = "audio/" + fmt;
        return require_kind(p, "audio", shape);
    };
    // 1) data[]: b64_json or a data: URL
    if (r.is_object() && r.contains("data") && r["data"].is_array()) {
        for (const json& d : r["data"]) {
            std::string b64 = str_or_empty(find_path(d, {"b64_json"}));
            if (b64.empty()) b64 = str_or_empty(find_path(d, {"url"}));
            if (!b64.empty()) return require_kind(decode_media(b64, "audio"), "audio", "data[]");
        }
    }
    if (const json* msg = first_choice_message(r)) {
        // 2) message.audio as {data, format} or a string
        if (const json* a = find_path(*msg, {"audio"})) {
            if (a->is_object()) {
                if (auto p = from_dict(*a, "choices[0].message.audio")) return *p;
            } else if (a->is_string() && !a->get<std::string>().empty()) {
                return require_kind(decode_media(a->get<std::string>(), "audio"), "audio",
                                    "choices[0].message.audio");
            }
        }
        // 3) content parts: audio_url, or an "image_url" that is not an image
        const json* content = find_path(*msg, {"content"});
        if (content && content->is_array()) {
            for (const json& part : *content) {
                std::string url = str_or_empty(find_path(part, {"audio_url", "url"}));
                if (url.empty()) {
                    std::string u = str_or_empty(find_path(part, {"image_url", "url"}));
                    if (!u.empty() && !starts_with(u, "data:image")) url = u;
                }
                if (!url.empty())
                    return require_kind(decode_media(url, "audio"), "audio", "choices[0].message.content");
            }
        } else if (content && content->is_string() && !content->get<std::string>().empty()) {
            return require_kind(decode_media(content->get<std::string>(), "audio"), "audio",
                                "choices[0].message.content");
        }
    }
    // 4) top-level "audio"
    if (r.is_object() && r.contains("audio")) {
        const json& a = r["audio"];
        if (a.is_object()) {
            if (auto p = from_dict(a, "audio")) return *p;
        } else if (a.is_string() && !a.get<std::string>().empty()) {
            return require_kind(decode_media(a.get<std::string>(), "audio"), "audio", "audio");
        }
    }
    throw proxy_error(OMNIHOST_INTERNAL,
                     "No audio data in response - generation may have failed (check server logs for OOM errors)");
}

std::string audio_mime_from_content_type(const std::string& content_type) {
    std::string ct = lower(content_type);
    if (ct.find("audio") == std::string::npos && ct.find("application/octet-stream") == std::string::npos)
        return "";
    if (ct.find("wav") != std::string::npos) return "audio/wav";
    if (ct.find("mp3") != std::string::npos || ct.find("mpeg") != std::string::npos) return "audio/mpeg";
    if (ct.find("flac") != std::string::npos) return "audio/flac";
    if (ct.find("ogg") != std::string::npos || ct.find("opus") != std::string::npos) return "audio/ogg";
    if (ct.find("aac") != std::string::npos) return "audio/aac";
    if (ct.find("pcm") != std::string::npos) return "audio/pcm";
    return "audio/wav";
}

upstream_video_job parse_video_job(const json& r) {
    upstream_video_job job;
    job.id = str_or_empty(find_path(r, {"id"}));
    job.status = str_or_empty(find_path(r, {"status"}));
    // Upstream text: read as a double and clamp before converting (1e300 or NaN must not reach int).
    if (const json* p = find_path(r, {"progress"}); p && p->is_number()) {
        const double v = p->get<double>();
        job.progress = std::isfinite(v) ? static_cast<int>(std::clamp(v, 0.0, 100.0)) : 0;
    }
    if (const json* e = find_path(r, {"error"}); e && !e->is_null()) {
        job.error = e->is_object() && e->contains("message") && (*e)["message"].is_string()
                        ? (*e)["message"].get<std::string>()
                        : e->dump();
    }
    if (job.id.empty()) throw proxy_error(OMNIHOST_INTERNAL, "video job response has no id");
    return job;
}

std::vector<chat_piece> parse_chat_pieces(const json& chunk) {
    std::vector<chat_piece> out;
    const json* msg = first_choice_message(chunk);
    if (!msg) return out;
    auto add_audio = [&](const std::string& url_or_b64, const std::string& fmt_hint) {
        chat_piece p;
        parsed_data_url url = parse_data_url(url_or_b64);
        p.audio_b64 = url.ok ? url.payload : url_or_b64;
        p.audio_format = url.ok && !url.mime.empty() ? url.mime
                         : !fmt_hint.empty()         ? "audio/" + fmt_hint
                                                     : "audio/wav";
        if (!p.audio_b64.empty()) out.push_back(std::move(p));
    };
    if (const json* content = find_path(*msg, {"content"})) {
        if (content->is_string()) {
            if (!content->get<std::string>().empty()) out.push_back({content->get<std::string>(), "", ""});
        } else if (content->is_array()) {
            for (const json& part : *content) {
                std::string type = str_or_empty(find_path(part, {"type"}));
                if (type == "text") {
                    std::string t = str_or_empty(find_path(part, {"text"}));
                    if (!t.empty()) out.push_back({t, "", ""});
                } else if (type == "audio" || type == "audio_url" || part.contains("audio_url")) {
                    std::string u = str_or_empty(find_path(part, {"audio_url", "url"}));
                    if (u.empty()) u = str_or_empty(find_path(part, {"audio", "data"}));
                    if (!u.empty()) add_audio(u, "");
                }
            }
        }
    }
    if (const json* a = find_path(*msg, {"audio"}); a && a->is_object()) {
        std::string d = str_or_empty(find_path(*a, {"data"}));
        if (!d.empty()) add_audio(d, str_or_empty(find_path(*a, {"format"})));
    }
    return out;
}

std::string upstream_error_text(const std::string& body) {
    try {
        json j = omnihost::parse_json_bounded(body);
        if (j.is_object()) {
            if (j.contains("error")) {
                const json& e = j["error"];
                if (e.is_string()) return e.get<std::string>();
                if (e.is_object() && e.contains("message") && e["message"].is_string())
                    return e["message"].get<std::string>();
            }
            if (j.contains("detail"))
                return j["detail"].is_string() ? j["detail"].get<std::string>() : j["detail"].dump();
            if (j.contains("message") && j["message"].is_string()) return j["message"].get<std::string>();
        }
    } catch (const std::exception&) {  // malformed, too deep or too large: shown as text
    }
    std::string t = body.substr(0, 500);
    while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
    return t;
}

bool is_serialization_bug(const std::string& text) {
    return text.find("has no attribute 'save'") != std::string::npos;
}

proxy_error serialization_bug_error(const std::string& modality, const std::string& endpoint) {
    return proxy_error(OMNIHOST_NOT_SUPPORTED,
                      "the upstream vLLM-Omni server could not serialize the " + modality + " output (" +
                          endpoint +
                          ": 'numpy.ndarray' object has no attribute 'save'). This is a known vLLM-Omni "
                          "serving bug for video/audio models; run this model in-process instead (run_mode "
                          "\"subprocess\" with an in-process plugin such as video_diffusion or stable_audio)");
}

proxy_error upstream_http_error(int status, const std::string& body, const std::string& modality,
                               const std::string& endpoint) {
    std::string text = upstream_error_text(body);
    if (is_serialization_bug(text) || is_serialization_bug(body)) return serialization_bug_error(modality, endpoint);
    std::string msg = "vLLM-Omni error " + std::to_string(status) + " on " + endpoint + ": " + text;
    if (status == 401 || status == 403)
        return proxy_error(OMNIHOST_UNAVAILABLE, msg + " (check remote_api_key)");
    if (status == 503) return proxy_error(OMNIHOST_UNAVAILABLE, msg);
    if (status == 400 || status == 422) return proxy_error(OMNIHOST_INVALID_ARGUMENT, msg);
    if (status == 404 || status == 405 || status == 501) return proxy_error(OMNIHOST_NOT_SUPPORTED, msg);
    return proxy_error(OMNIHOST_INTERNAL, msg);
}

}  // namespace omnihost::proxy
