// What outside input cannot do to the proxies: deep or huge upstream answers and SSE events are
// refused with an error (the plugin keeps working), the child environment is an allow-list, and
// model ids are validated before anything runs.
#define DOCTEST_CONFIG_IMPLEMENT_WITH_MAIN
#include <doctest/doctest.h>

#include "child_env.h"
#include "child_process.h"
#include "launch_policy.h"
#include "media_parsers.h"
#include "plugin_harness.h"
#include "sse.h"

#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <mutex>
#include <stdexcept>

using nlohmann::json;
using namespace proxytest;
using namespace omnihost::proxy;

namespace {

json remote(const std::string& url) {
    return {{"run_mode", "remote"}, {"model_type", "image"}, {"remote_url", url}};
}

std::string deep(size_t levels) { return std::string(levels, '['); }

}  // namespace

TEST_CASE("a deeply nested upstream answer is an error, not a crash; the plugin keeps working") {
    standin_server server;
    plugin_under_test p("remote_proxy");
    REQUIRE(p.create(json::object()) == OMNIHOST_OK);
    REQUIRE_MESSAGE(p.start(remote(server.url())) == OMNIHOST_OK, p.last_error());
    // 1 MB of '[' as a 200 answer to the image request
    standin_control(server.port(), {{"fail", {{"/v1/chat/completions", {{"status", 200}, {"body", deep(1 << 20)}}}}}});
    gen_result r = p.generate({{"task", "image"}, {"prompt", "x"}});
    CHECK(r.status == OMNIHOST_INTERNAL);
    CHECK_MESSAGE(r.error.find("nesting deeper than") != std::string::npos, r.error);
    // the same as an error body: the message is shown as text, cut short
    standin_control(server.port(), {{"fail", {{"/v1/chat/completions", {{"status", 500}, {"body", deep(1 << 20)}}}}}});
    r = p.generate({{"task", "image"}, {"prompt", "x"}});
    CHECK(r.status != OMNIHOST_OK);
    CHECK(r.error.size() < 2000);
    // as an SSE event of the chat stream: the event is dropped with a warning
    standin_control(server.port(),
                    {{"fail", {{"/v1/chat/completions",
                                {{"status", 200}, {"content_type", "text/event-stream"}, {"body", "data: " + deep(100000) + "\n\n"},
                                 {"repeat", 1}, {"suffix", "data: [DONE]\n\n"}}}}}});
    harness_job chat_job;
    p.generate({{"task", "chat"}, {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}}, &chat_job);
    CHECK(p.logs.contains("remote_proxy", "ignoring a non-JSON event"));
    // healthy again once the upstream is
    standin_reset(server.port());
    gen_result ok = p.generate({{"task", "image"}, {"prompt", "x"}});
    CHECK_MESSAGE(ok.status == OMNIHOST_OK, ok.error);
    CHECK(p.stop() == OMNIHOST_OK);
}

TEST_CASE("an upstream answer over the operator's size limit is refused") {
    standin_server server;
    plugin_under_test p("remote_proxy");
    REQUIRE(p.create({{"max_upstream_body_mb", 1}}) == OMNIHOST_OK);
    REQUIRE_MESSAGE(p.start(remote(server.url())) == OMNIHOST_OK, p.last_error());
    // 2 MiB of valid JSON (a long string)
    standin_control(server.port(), {{"fail", {{"/v1/chat/completions",
                                               {{"status", 200}, {"body", "{\"x\":\"" + std::string(1024, 'a')},
                                                {"repeat", 2048}, {"suffix", "\"}"}}}}}});
    gen_result r = p.generate({{"task", "image"}, {"prompt", "x"}});
    CHECK(r.status == OMNIHOST_INTERNAL);
    CHECK_MESSAGE(r.error.find("exceeds 1048576 bytes") != std::string::npos, r.error);
    // a streamed line without end is cut off the same way
    standin_control(server.port(), {{"fail", {{"/v1/chat/completions",
                                               {{"status", 200}, {"content_type", "text/event-stream"},
                                                {"body", std::string(1024, 'a')}, {"repeat", 2048}}}}}});
    r = p.generate({{"task", "chat"}, {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}});
    CHECK(r.status != OMNIHOST_OK);
    CHECK_MESSAGE(r.error.find("exceeds 1048576 bytes") != std::string::npos, r.error);
    // so is one event made of many short data lines (no blank line ends it)
    standin_control(server.port(), {{"fail", {{"/v1/chat/completions",
                                               {{"status", 200}, {"content_type", "text/event-stream"},
                                                {"body", "data: " + std::string(1000, 'a') + "\n"}, {"repeat", 2048}}}}}});
    r = p.generate({{"task", "chat"}, {"messages", json::array({{{"role", "user"}, {"content", "hi"}}})}});
    CHECK(r.status != OMNIHOST_OK);
    CHECK_MESSAGE(r.error.find("SSE event exceeds 1048576 bytes") != std::string::npos, r.error);
    standin_reset(server.port());
    // a small answer passes (a 1024x1024 PNG would not fit this 1 MiB limit)
    gen_result after = p.generate({{"task", "image"}, {"prompt", "x"}, {"width", 16}, {"height", 16}});
    CHECK_MESSAGE(after.status == OMNIHOST_OK, (after.error + "\n" + p.logs.dump()));
    CHECK(p.stop() == OMNIHOST_OK);
}

TEST_CASE("SSE events and error texts are bounded") {
    std::vector<std::string> events;
    sse_parser sse([&](const std::string& d) { events.push_back(d); }, 16);
    sse.feed_line("data: 0123456789");
    CHECK_THROWS_AS(sse.feed_line("data: 0123456789"), std::length_error);
    sse.feed_line("");
    CHECK(events.empty());  // the oversized event was dropped
    sse.feed_line("data: ok");
    sse.feed_line("");
    CHECK(events == std::vector<std::string>{"ok"});
    const std::string text = upstream_error_text(deep(1 << 20));
    CHECK(text.size() <= 500);
}

TEST_CASE("child environment: an allow-list; the host's token never passes") {
    const std::map<std::string, std::string> host = {
        {"PATH", "/usr/bin"},          {"HOME", "/home/u"},        {"LANG", "C.UTF-8"},     {"LC_ALL", "C"},
        {"HF_HOME", "/hf"},            {"CUDA_HOME", "/cuda"},     {"VLLM_LOGGING", "x"},   {"OMNIHOST_TOKEN", "t0k"},
        {"AWS_SECRET_ACCESS_KEY", "s"}, {"OMNIHOST_OTHER", "o"},   {"GITHUB_TOKEN", "g"},   {"XDG_RUNTIME_DIR", "/run/u"}};
    auto env = child_environment(host, {{"HF_TOKEN", "hf"}, {"OMNIHOST_TOKEN", "again"}}, {"LC_ALL"}, {"GITHUB_TOKEN"});
    for (const char* k : {"PATH", "HOME", "LANG", "HF_HOME", "CUDA_HOME", "VLLM_LOGGING", "XDG_RUNTIME_DIR", "HF_TOKEN",
                          "GITHUB_TOKEN", "OMNIHOST_CHILD_OF"})
        CHECK_MESSAGE(env.count(k) == 1, k);
    for (const char* k : {"OMNIHOST_TOKEN", "AWS_SECRET_ACCESS_KEY", "OMNIHOST_OTHER", "LC_ALL"})
        CHECK_MESSAGE(env.count(k) == 0, k);
}

TEST_CASE("model ids: hub ids with revisions and absolute paths; nothing option-like") {
    CHECK(validate_model_id("gpt2").id == "gpt2");
    CHECK(validate_model_id("Qwen/Qwen-Image").id == "Qwen/Qwen-Image");
    model_ref r = validate_model_id("Wan-AI/Wan2.1-T2V-1.3B-Diffusers@refs/pr/3");
    CHECK(r.id == "Wan-AI/Wan2.1-T2V-1.3B-Diffusers");
    CHECK(r.revision == "refs/pr/3");
    CHECK(validate_model_id("/models/x/../y/").id == "/models/y");
    CHECK(validate_model_id("/models/y").local_path);
    for (const std::string& bad : std::vector<std::string>{"", "-x", "--model=x", "a b", "a\tb", std::string("a\0b", 3), "a\x7f", "a/b/c", "./a", "a/",
                            "/a b", ".hidden/x", "a--b/c", "a/b@", "a/b@-r", "a/b@x..y", "a/b@x y",
                            std::string(2000, 'a')}) {
        CAPTURE(bad);
        CHECK_THROWS_AS(validate_model_id(bad), proxy_error);
    }
}

TEST_CASE("a child gets no descriptor of the parent, even one without close-on-exec, and even when stdin was closed") {
    // An fd the parent leaks on purpose (no O_CLOEXEC), and stdin closed so the pipes may land on 0.
    const int opened = ::open("/dev/null", O_RDONLY);
    const int leaked = ::fcntl(opened, F_DUPFD, 50);  // F_DUPFD: no close-on-exec
    ::close(opened);
    REQUIRE(leaked >= 50);
    const int saved_stdin = ::fcntl(0, F_DUPFD_CLOEXEC, 10);
    ::close(0);
    child_process child;
    std::vector<std::string> lines;
    std::mutex m;
    child.spawn(process_spec{{"/bin/sh", "-c", "for f in /proc/$$/fd/*; do echo fd=${f##*/}; done; echo done"}, {}, {}},
                [&](const std::string& line, bool) {
                    std::lock_guard lock(m);
                    lines.push_back(line);
                });
    const bool exited = child.wait_exit(std::chrono::seconds(10));
    const bool drained = child.wait_output_closed(std::chrono::seconds(5));
    // Only now: a pipe of the child may have been read through fd 0 until its end.
    if (saved_stdin >= 0) {
        ::dup2(saved_stdin, 0);
        ::close(saved_stdin);
    }
    REQUIRE(exited);
    REQUIRE(drained);
    CHECK(child.exit_code() == 0);
    std::lock_guard lock(m);
    CHECK(std::find(lines.begin(), lines.end(), "done") != lines.end());
    for (const char* want : {"fd=0", "fd=1", "fd=2"}) CHECK(std::find(lines.begin(), lines.end(), want) != lines.end());
    CHECK(std::find(lines.begin(), lines.end(), "fd=" + std::to_string(leaked)) == lines.end());
    // 0-2, plus the directory the glob itself has open while it lists (3)
    for (const auto& l : lines)
        if (l.rfind("fd=", 0) == 0) CHECK_MESSAGE(std::stoi(l.substr(3)) <= 3, l);
    ::close(leaked);
}
