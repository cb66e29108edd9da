#include "sse.h"

#include <stdexcept>
#include <string>

namespace omnihost::proxy {

void sse_parser::feed_line(const std::string& line) {
    if (line.empty()) {
        finish();
        return;
    }
    if (line[0] == ':') return;
    auto colon = line.find(':');
    std::string field = line.substr(0, colon);
    std::string value = colon == std::string::npos ? std::string() : line.substr(colon + 1);
    if (!value.empty() && value[0] == ' ') value.erase(0, 1);
    if (field != "data") return;
    if (data_.size() + value.size() + 1 > max_event_bytes_) {
        data_.clear();
        has_data_ = false;
        throw std::length_error("an SSE event exceeds " + std::to_string(max_event_bytes_) + " bytes");
    }
    if (has_data_) data_ += '\n';
    data_ += value;
    has_data_ = true;
}

void sse_parser::finish() {
    if (!has_data_) return;
    std::string data;
    data.swap(data_);
    has_data_ = false;
    sink_(data);
}

}  // namespace omnihost::proxy
