// The named character references html_unescape knows (see prompt_clean.h for the exact subset).
#pragma once

#include <string_view>

namespace omnihost::text::detail {

struct html_entity {
    std::string_view name;  // without '&' and ';'
    char32_t code_point;
    bool legacy;  // also recognised without the trailing ';' (Python's html5 table has "name" too)
};

// Sorted by name (byte order) so lookups can binary-search.
const html_entity *find_html_entity(std::string_view name);

}  // namespace omnihost::text::detail
