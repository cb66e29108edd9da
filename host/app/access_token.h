// access_token.h — what happens when omnihost listens beyond loopback without a token: it does
// not run open. Like Jupyter, it generates a random token and prints the URL that carries it
// (http://HOST:PORT/?token=...); the page takes the token from its address, keeps it, and removes
// it from the address bar.
#pragma once

#include <string>
#include <vector>

namespace omnihost {

// 32 random bytes from the kernel (getrandom), as 64 hex digits. Throws std::runtime_error when
// the kernel gives no randomness (never silently a weak token).
std::string generate_access_token();

// True when a listener on this address is reachable from other machines (anything but
// 127.0.0.0/8 and ::1; wildcards included).
bool is_reachable_beyond_loopback(const std::string &bound_address);

// The URLs to print for a generated token: the bound address (or, for a wildcard, this machine's
// host name, plus 127.0.0.1).
std::vector<std::string> access_urls(const std::string &bound_address, bool wildcard,
                                     unsigned port, const std::string &token);

} // namespace omnihost
