// bench_history.h — a SQLite job database holding `count` finished jobs, for the benchmarks that
// measure listing and scraping with a long history.
#pragma once

#include <string>

namespace omnihost::bench {

// Writes the jobs through the job store (then one bulk UPDATE marks them succeeded with an
// output) and prints how long it took.
void prefill_history(const std::string &db, int count);

} // namespace omnihost::bench
