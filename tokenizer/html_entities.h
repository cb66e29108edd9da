// The named character references html_unescape knows: the full WHATWG list.
#pragma once

#include <string_view>

namespace omnihost::text::detail {

struct html_entity {
    std::string_view name;  // without '&' and ';'
    std::string_view utf8;  // replacement text (one or two code points)
    bool legacy;  // also recognised without the trailing ';' (Python's html5 table has "name" too)
};

// Sorted by name (byte order) so lookups can binary-search.
const html_entity *find_html_entity(std::string_view name);

}  // namespace omnihost::text::detail
