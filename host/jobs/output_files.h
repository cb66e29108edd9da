// output_files.h — job outputs on disk, written so that a crash never leaves a half file that
// looks finished: bytes go to a temporary name in the same folder, are fsynced, renamed to the
// final name and the folder fsynced; only then does the caller record the path. Temporaries of
// writers that are gone are removed by sweep_temporaries().
#pragma once

#include <cstdint>
#include <functional>
#include <string>

namespace omnihost::jobs {

// File extension for a MIME type ("video/mp4" -> "mp4"; unknown -> "bin").
std::string extension_for_mime(const std::string &mime_type);

// Writes `data` as `<dir>/<job_id>.<ext>` through `.<job_id>.<worker>.tmp`. Returns the final
// path; throws std::runtime_error (with errno text) on failure, leaving no temporary behind.
//
// Test hook: when the environment variable OMNIHOST_TEST_HOLD_OUTPUT_WRITE names a file, the
// writer stops after half the bytes (fsynced), creates that file and blocks for good, so a test
// can kill the process in the middle of a write at a known point.
std::string write_output_atomically(const std::string &dir, const std::string &job_id, const std::string &worker,
                                    const std::string &mime_type, const std::string &data);

// Removes temporaries in `dir` unless `in_progress(job_id, worker)` says their writer still runs.
// Returns how many were removed.
int sweep_temporaries(const std::string &dir,
                      const std::function<bool(const std::string &job_id, const std::string &worker)> &in_progress);

} // namespace omnihost::jobs
