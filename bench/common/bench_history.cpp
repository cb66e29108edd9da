#include "bench_history.h"

#include <chrono>
#include <cstdio>

#include <Poco/Data/Session.h>

#include "jobs/job_store.h"

namespace omnihost::bench {

void prefill_history(const std::string &db, int count) {
    omnihost::jobs::job_database store("sqlite:" + db, db);
    const auto t0 = std::chrono::steady_clock::now();
    for (int i = 0; i < count; ++i) {
        omnihost::jobs::stored_job job;
        job.id = "hist-" + std::to_string(i);
        job.task = i % 3 == 0 ? "image" : i % 3 == 1 ? "video" : "audio";
        job.model = "test/video-model";
        job.request = {{"prompt", "history item " + std::to_string(i)}, {"seed", i}, {"task", job.task}};
        job.created_ms = omnihost::jobs::now_epoch_ms() - (count - i) * 1000;
        store.insert(job, 0);
    }
    Poco::Data::Session session("SQLite", db);
    session << "UPDATE omnihost_jobs SET state = 'succeeded', started_ms = created_ms + 10, finished_ms = created_ms + 900, "
               "output_mime = 'image/png', output_bytes = 1234, output_path = '/nonexistent/bench-output.png'",
        Poco::Data::Keywords::now;
    std::printf("prefill: %d finished jobs written in %.2f s\n", count,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
}

} // namespace omnihost::bench
