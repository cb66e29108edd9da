// omnihost_plugin.hpp, the C++ helper for plugin authors: the snprintf-style copies, the
// exception-to-status guard, the result list, the job helpers and OMNIHOST_HAS_MEMBER.
#include <omnihost_plugin.hpp>

#include <doctest/doctest.h>

#include <cstring>
#include <new>
#include <stdexcept>
#include <string>

using namespace omnihost::sdk;

namespace {

struct my_error {
    int code;
};

struct guard_out {
    omnihost_status status;
    std::string reason;
};

template <class Body, class Translate = no_translation>
guard_out run_guard(Body body, Translate translate = {}) {
    char err[64];
    std::memset(err, 'x', sizeof err);
    guard_out out;
    out.status = guard(err, sizeof err, body, translate);
    out.reason = out.status == OMNIHOST_OK ? std::string() : std::string(err);
    return out;
}

int progress_calls = 0;
void count_progress(void *, int32_t, int32_t, const char *, const char *) { ++progress_calls; }
int32_t always_cancelled(void *) { return 1; }

}  // namespace

TEST_SUITE("sdk") {

TEST_CASE("copy_text is snprintf: cut to cap - 1 plus NUL, full length returned, nothing past cap") {
    char buf[8];
    std::memset(buf, '#', sizeof buf);
    CHECK(copy_text("hello world", buf, 6) == 11);
    CHECK(std::string(buf) == "hello");
    CHECK(buf[6] == '#');
    CHECK(copy_text("hello world", nullptr, 0) == 11);
    CHECK(copy_text("hi", buf, sizeof buf) == 2);
    CHECK(std::string(buf) == "hi");
    size_t len = 0;
    answer_text("{\"ready\":true}", buf, sizeof buf, &len);
    CHECK(len == 14);
    CHECK(std::strlen(buf) == 7);
}

TEST_CASE("guard turns every exception into a status and a reason") {
    CHECK(run_guard([] {}).status == OMNIHOST_OK);
    auto a = run_guard([] { throw invalid_field("steps", "must be > 0"); });
    CHECK(a.status == OMNIHOST_INVALID_ARGUMENT);
    CHECK(a.reason == "steps: must be > 0");
    CHECK(run_guard([] { throw std::bad_alloc(); }).status == OMNIHOST_OUT_OF_MEMORY);
    CHECK(run_guard([] { throw std::runtime_error("CUDA out of memory. Tried"); }).status == OMNIHOST_OUT_OF_MEMORY);
    auto b = run_guard([] { throw std::runtime_error("disk on fire"); });
    CHECK(b.status == OMNIHOST_INTERNAL);
    CHECK(b.reason == "disk on fire");
    auto c = run_guard([] { throw 42; });
    CHECK(c.status == OMNIHOST_INTERNAL);
    CHECK(c.reason == "unknown exception");
    // A body that returns a non-OK status without throwing still gets a reason.
    auto d = run_guard([] { return OMNIHOST_UNAVAILABLE; });
    CHECK(d.status == OMNIHOST_UNAVAILABLE);
    CHECK_FALSE(d.reason.empty());
    // A long reason is cut to the buffer, NUL-terminated.
    auto e = run_guard([] { throw std::runtime_error(std::string(500, 'r')); });
    CHECK(e.reason.size() == 63);
}

TEST_CASE("guard hands the plugin's own exception types to its translator; the rest fall through") {
    auto translate = [](std::string &message) -> omnihost_status {
        try {
            throw;
        } catch (const my_error &e) {
            message = "my_error " + std::to_string(e.code);
            return OMNIHOST_NOT_SUPPORTED;
        }
    };
    auto a = run_guard([] { throw my_error{7}; }, translate);
    CHECK(a.status == OMNIHOST_NOT_SUPPORTED);
    CHECK(a.reason == "my_error 7");
    auto b = run_guard([] { throw std::logic_error("not mine"); }, translate);
    CHECK(b.status == OMNIHOST_INTERNAL);
    CHECK(b.reason == "not mine");
}

TEST_CASE("guard with error_cap 0 writes nothing") {
    CHECK(guard(nullptr, 0, [] { throw std::runtime_error("x"); }) == OMNIHOST_INTERNAL);
}

TEST_CASE("result_list owns results until released; unknown pointers are ignored") {
    result_list list;
    omnihost_result *r = list.add({1, 2, 3}, "image/png", "");
    CHECK(list.size() == 1);
    CHECK(r->size == 3);
    CHECK(r->data[2] == 3);
    CHECK(std::string(r->mime_type) == "image/png");
    CHECK(std::string(r->metadata_json) == "{}");
    CHECK(r->struct_size == sizeof(omnihost_result));
    omnihost_result stranger{};
    list.release(&stranger);
    list.release(nullptr);
    CHECK(list.size() == 1);
    list.release(r);
    CHECK(list.size() == 0);
    list.release(r);  // twice: ignored
    omnihost_result *empty = list.add({}, "text/plain", "{\"text\":\"\"}");
    CHECK(empty->data == nullptr);
    CHECK(empty->size == 0);
}

TEST_CASE("OMNIHOST_HAS_MEMBER reads only what struct_size declared; job helpers honour it") {
    omnihost_job job{};
    job.struct_size = sizeof(omnihost_job);
    job.progress = count_progress;
    job.is_cancelled = always_cancelled;
    CHECK(OMNIHOST_HAS_MEMBER(&job, emit));
    CHECK(job_cancelled(&job));
    progress_calls = 0;
    job_progress(&job, 1, 2, "denoise");
    CHECK(progress_calls == 1);
    CHECK_FALSE(job_can_emit(&job));  // declared, but NULL
    // A host whose job table ends before is_cancelled: the member is absent even though the
    // pointer in this (bigger) struct is set.
    job.struct_size = static_cast<uint32_t>(offsetof(omnihost_job, is_cancelled));
    CHECK_FALSE(OMNIHOST_HAS_MEMBER(&job, is_cancelled));
    CHECK_FALSE(job_cancelled(&job));
    CHECK(OMNIHOST_HAS_MEMBER(&job, progress));
    const omnihost_job *none = nullptr;
    CHECK_FALSE(OMNIHOST_HAS_MEMBER(none, progress));
    CHECK_FALSE(job_cancelled(nullptr));
}

}  // TEST_SUITE
