#include "audio_output.h"

#include "media/media_error.h"

#include <sstream>

namespace omnihost::stable_audio {
namespace {

std::string number_text(double v) {
    std::ostringstream s;
    s.precision(6);
    s << v;
    return s.str();
}

std::string peak_tag(const media::peak_report &p, const std::string &mode) {
    if (!p.scaled) return mode + ": peak " + number_text(p.peak_in) + ", left as is";
    return mode + ": peak " + number_text(p.peak_in) + " scaled by " + number_text(p.gain) + " to 1";
}

}  // namespace

std::vector<encoded_waveform> encode_waveforms(const float *audio, int64_t batch, int64_t channels,
                                               int64_t samples, const output_request &request) {
    if (batch < 1 || channels < 1 || samples < 1)
        throw media::media_error("audio export: empty audio (" + std::to_string(batch) + " x " +
                                 std::to_string(channels) + " x " + std::to_string(samples) + ")");
    if (request.sampling_rate < 1 || request.sampling_rate > 768000)
        throw media::media_error("audio export: sampling rate " + std::to_string(request.sampling_rate) + " out of range");
    const media::audio_format format = media::parse_audio_format(request.format);
    const media::peak_mode mode = media::parse_peak_mode(request.peak_mode);
    std::vector<encoded_waveform> out;
    const size_t per = size_t(channels) * size_t(samples);
    for (int64_t b = 0; b < batch; ++b) {
        std::vector<float> wave(audio + size_t(b) * per, audio + size_t(b + 1) * per);
        encoded_waveform w;
        w.peak = media::apply_peak_handling(wave.data(), wave.size(), mode);
        media::audio_encode_options o;
        o.format = format;
        o.metadata = request.tags;
        o.metadata.emplace_back("peak_handling", peak_tag(w.peak, request.peak_mode));
        if (batch > 1) o.metadata.emplace_back("waveform", std::to_string(b + 1) + " of " + std::to_string(batch));
        w.bytes = media::encode_audio(wave.data(), samples, int(channels), int(request.sampling_rate), o);
        w.mime_type = media::audio_mime_type(format);
        out.push_back(std::move(w));
    }
    return out;
}

nlohmann::json peak_json(const std::vector<encoded_waveform> &files, const std::string &mode) {
    nlohmann::json list = nlohmann::json::array();
    for (const auto &f : files)
        list.push_back({{"peak_in", f.peak.peak_in}, {"gain", f.peak.gain}, {"scaled", f.peak.scaled}});
    return {{"mode", mode}, {"per_waveform", list}};
}

std::vector<std::string> extra_waveforms_base64(const std::vector<encoded_waveform> &files) {
    std::vector<std::string> out;
    for (size_t i = 1; i < files.size(); ++i) out.push_back(base64_encode(files[i].bytes));
    return out;
}

std::string base64_encode(const std::vector<uint8_t> &bytes) {
    static const char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    size_t i = 0;
    for (; i + 2 < bytes.size(); i += 3) {
        const uint32_t v = uint32_t(bytes[i]) << 16 | uint32_t(bytes[i + 1]) << 8 | bytes[i + 2];
        out += table[v >> 18];
        out += table[(v >> 12) & 63];
        out += table[(v >> 6) & 63];
        out += table[v & 63];
    }
    if (i < bytes.size()) {
        const bool two = i + 1 < bytes.size();
        const uint32_t v = uint32_t(bytes[i]) << 16 | (two ? uint32_t(bytes[i + 1]) << 8 : 0);
        out += table[v >> 18];
        out += table[(v >> 12) & 63];
        out += two ? table[(v >> 6) & 63] : '=';
        out += '=';
    }
    return out;
}

}  // namespace omnihost::stable_audio
