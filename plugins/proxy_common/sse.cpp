#include "sse.h"

namespace omnihost::proxy {

void SseParser::feed_line(const std::string& line) {
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
    if (has_data_) data_ += '\n';
    data_ += value;
    has_data_ = true;
}

void SseParser::finish() {
    if (!has_data_) return;
    std::string data;
    data.swap(data_);
    has_data_ = false;
    sink_(data);
}

}  // namespace omnihost::proxy
