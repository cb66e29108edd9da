#include "api/http_io.h"

#include <algorithm>
#include <istream>

#include <Poco/Net/HTTPServerRequest.h>
#include <Poco/Net/HTTPServerResponse.h>

#include "common/json_limits.h"

namespace omnihost {
namespace {

// Reads and discards up to `budget` bytes so a refused body does not reset the connection under
// the client's feet (the client usually sends it all before reading our 413).
void drain(std::istream &in, uint64_t budget) {
    char buffer[65536];
    while (in && budget > 0) {
        in.read(buffer, static_cast<std::streamsize>(std::min<uint64_t>(sizeof buffer, budget)));
        const auto got = in.gcount();
        if (got <= 0) break;
        budget -= static_cast<uint64_t>(got);
    }
}

constexpr uint64_t kDrainBudget = 16ull * 1024 * 1024;

} // namespace

void send_json(Poco::Net::HTTPServerResponse &response, int status, const nlohmann::json &body) {
    const std::string text = body.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    response.setStatusAndReason(static_cast<Poco::Net::HTTPResponse::HTTPStatus>(status));
    response.setContentType("application/json");
    response.set("Cache-Control", "no-cache");
    response.setContentLength(static_cast<std::streamsize>(text.size()));
    response.sendBuffer(text.data(), text.size());
}

void send_error(Poco::Net::HTTPServerResponse &response, const api_error &error) {
    nlohmann::json body = {{"success", false}, {"error", error.message}};
    if (!error.field.empty()) body["field"] = error.field;
    // An unread oversized body would poison the next request on a kept-alive connection.
    if (error.status == 413) response.setKeepAlive(false);
    send_json(response, error.status, body);
}

std::optional<api_error> read_body(Poco::Net::HTTPServerRequest &request, uint64_t limit,
                                  std::string &out) {
    out.clear();
    if (request.hasContentLength()) {
        const auto length = request.getContentLength64();
        if (length < 0) return api_error{400, "Content-Length: invalid", "Content-Length"};
        if (static_cast<uint64_t>(length) > limit) {
            if (static_cast<uint64_t>(length) <= kDrainBudget) drain(request.stream(), kDrainBudget);
            return api_error{413, "body: " + std::to_string(length) + " bytes exceeds the limit of " +
                                     std::to_string(limit) + " bytes", "body"};
        }
        out.reserve(static_cast<size_t>(length));
    } else if (!request.getChunkedTransferEncoding()) {
        // RFC 9112: a request with neither Content-Length nor chunked encoding has no body.
        // (Reading Poco's stream here would wait for the client to close the connection.)
        return std::nullopt;
    }
    std::istream &in = request.stream();
    char buffer[65536];
    while (in) {
        in.read(buffer, sizeof buffer);
        const auto got = in.gcount();
        if (got <= 0) break;
        if (out.size() + static_cast<uint64_t>(got) > limit) {
            drain(in, kDrainBudget);
            return api_error{413, "body: exceeds the limit of " + std::to_string(limit) + " bytes", "body"};
        }
        out.append(buffer, static_cast<size_t>(got));
    }
    return std::nullopt;
}

std::optional<api_error> read_json_object(Poco::Net::HTTPServerRequest &request, uint64_t limit,
                                         nlohmann::json &out, bool empty_is_object) {
    std::string body;
    if (auto error = read_body(request, limit, body)) return error;
    if (body.find_first_not_of(" \t\r\n") == std::string::npos) {
        if (empty_is_object) {
            out = nlohmann::json::object();
            return std::nullopt;
        }
        return api_error{400, "body: a JSON object is required", "body"};
    }
    try {
        // Depth-limited while parsing: a body of 200,000 '[' must be refused before any deep value
        // exists (copying or destroying one recurses per level and would overflow the stack).
        out = parse_json_bounded(body, {json_default_max_depth, static_cast<std::size_t>(limit)});
    } catch (const json_limit_error &e) {
        const bool too_large = body.size() > limit;
        return api_error{too_large ? 413 : 400, std::string("body: ") + e.what(), "body"};
    } catch (const nlohmann::json::parse_error &e) {
        return api_error{400, "body: invalid JSON at byte " + std::to_string(e.byte), "body"};
    }
    if (!out.is_object()) return api_error{400, "body: must be a JSON object", "body"};
    return std::nullopt;
}

std::string base64_encode(const std::string &bytes) {
    static const char table[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    std::string out;
    out.reserve((bytes.size() + 2) / 3 * 4);
    size_t i = 0;
    const auto *data = reinterpret_cast<const unsigned char *>(bytes.data());
    for (; i + 2 < bytes.size(); i += 3) {
        const uint32_t n = (data[i] << 16) | (data[i + 1] << 8) | data[i + 2];
        out += table[(n >> 18) & 63];
        out += table[(n >> 12) & 63];
        out += table[(n >> 6) & 63];
        out += table[n & 63];
    }
    if (i + 1 == bytes.size()) {
        const uint32_t n = data[i] << 16;
        out += table[(n >> 18) & 63];
        out += table[(n >> 12) & 63];
        out += "==";
    } else if (i + 2 == bytes.size()) {
        const uint32_t n = (data[i] << 16) | (data[i + 1] << 8);
        out += table[(n >> 18) & 63];
        out += table[(n >> 12) & 63];
        out += table[(n >> 6) & 63];
        out += '=';
    }
    return out;
}

} // namespace omnihost
