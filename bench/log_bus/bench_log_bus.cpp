// bench_log_bus: how many log lines per second the bus delivers to 20 WebSocket subscribers on
// loopback (a real Poco HTTPServer and 20 real WebSocket clients, each on its own thread).
//
//   bench_log_bus [--subscribers N] [--lines N] [--producers N] [--bytes N] [--queue N]
//
// Two runs: with a queue big enough that nothing is dropped (pure throughput), and with the
// default queue while producers publish flat out (how much a flood costs slow clients). Prints
// figures only; nothing is asserted.
#include <log_bus.h>
#include <ws_logs_handler.h>

#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Net/HTTPServer.h>
#include <Poco/Net/HTTPServerParams.h>
#include <Poco/Net/ServerSocket.h>
#include <Poco/Net/WebSocket.h>
#include <Poco/ThreadPool.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <thread>
#include <vector>

using namespace omnihost::log_bus;
using Poco::Net::WebSocket;
using clock_type = std::chrono::steady_clock;

namespace {

struct config {
    int subscribers = 20;
    long lines = 200000;
    int producers = 2;
    int bytes = 120;  // message length, a typical log line
    size_t queue = bus_options{}.subscriber_queue_capacity;
};

struct client_stats {
    std::atomic<uint64_t> frames{0};
    std::atomic<uint64_t> dropped{0};
    std::atomic<uint64_t> bytes{0};
};

// Parses the count out of {"type":"dropped","count":N} without a JSON library (hot loop).
uint64_t drop_count(const char *p, int n) {
    static const char key[] = "\"count\":";
    std::string s(p, static_cast<size_t>(n));
    auto at = s.find(key);
    return at == std::string::npos ? 0 : std::strtoull(s.c_str() + at + sizeof key - 1, nullptr, 10);
}

void run_client(uint16_t port, client_stats &st, std::atomic<bool> &stop, std::atomic<int> &connected) {
    Poco::Net::HTTPClientSession session("127.0.0.1", port);
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, ws_logs_path, Poco::Net::HTTPMessage::HTTP_1_1);
    Poco::Net::HTTPResponse response;
    WebSocket ws(session, request, response);
    ws.setReceiveTimeout(Poco::Timespan(0, 200000));
    ++connected;
    std::vector<char> buf(1 << 16);
    while (!stop) {
        int flags = 0, n = 0;
        try {
            n = ws.receiveFrame(buf.data(), static_cast<int>(buf.size()), flags);
        } catch (const Poco::TimeoutException &) {
            continue;
        }
        if (n <= 0 && flags == 0) break;
        if ((flags & WebSocket::FRAME_OP_BITMASK) != WebSocket::FRAME_OP_TEXT) continue;
        st.bytes += static_cast<uint64_t>(n);
        if (n > 8 && std::memcmp(buf.data(), "{\"type\":\"dropped\"", 17) == 0) st.dropped += drop_count(buf.data(), n);
        else ++st.frames;
    }
    try {
        ws.shutdown();
    } catch (...) {
    }
}

void run(const config &cfg, const char *title) {
    bus b(bus_options{2000, cfg.queue, log_level::trace});
    Poco::ThreadPool pool(2, cfg.subscribers + 8);
    Poco::Net::ServerSocket socket(Poco::Net::SocketAddress("127.0.0.1", 0));
    Poco::Net::HTTPServerParams::Ptr params = new Poco::Net::HTTPServerParams;
    params->setMaxThreads(cfg.subscribers + 8);
    ws_options opts;
    opts.with_backlog = false;
    Poco::Net::HTTPServer server(new ws_logs_handler_factory(b, opts), pool, socket, params);
    server.start();

    std::vector<client_stats> stats(static_cast<size_t>(cfg.subscribers));
    std::atomic<bool> stop{false};
    std::atomic<int> connected{0};
    std::vector<std::thread> clients;
    for (int i = 0; i < cfg.subscribers; ++i)
        clients.emplace_back(run_client, socket.address().port(), std::ref(stats[static_cast<size_t>(i)]), std::ref(stop),
                             std::ref(connected));
    while (connected < cfg.subscribers || b.stats().subscribers < static_cast<size_t>(cfg.subscribers))
        std::this_thread::sleep_for(std::chrono::milliseconds(5));

    const std::string message(static_cast<size_t>(cfg.bytes), 'x');
    auto t0 = clock_type::now();
    std::vector<std::thread> producers;
    const long per_producer = cfg.lines / cfg.producers;
    for (int p = 0; p < cfg.producers; ++p)
        producers.emplace_back([&] {
            for (long i = 0; i < per_producer; ++i) b.publish_log(log_level::info, "bench", message);
        });
    for (auto &t : producers) t.join();
    auto t_published = clock_type::now();
    const uint64_t total = static_cast<uint64_t>(per_producer) * static_cast<uint64_t>(cfg.producers);

    // Delivered = every subscriber has seen every frame or been told it was dropped.
    auto all_accounted = [&] {
        for (auto &s : stats)
            if (s.frames + s.dropped < total) return false;
        return true;
    };
    auto deadline = clock_type::now() + std::chrono::seconds(120);
    while (!all_accounted() && clock_type::now() < deadline) std::this_thread::sleep_for(std::chrono::milliseconds(1));
    auto t_done = clock_type::now();

    uint64_t frames = 0, dropped = 0, bytes = 0;
    for (auto &s : stats) {
        frames += s.frames;
        dropped += s.dropped;
        bytes += s.bytes;
    }
    b.close_all_subscribers();
    stop = true;
    for (auto &t : clients) t.join();
    server.stopAll(true);

    const double pub_s = std::chrono::duration<double>(t_published - t0).count();
    const double all_s = std::chrono::duration<double>(t_done - t0).count();
    std::printf("%s\n", title);
    std::printf("  %d subscribers, %d producers, %llu lines of %d bytes, queue %zu per subscriber%s\n", cfg.subscribers,
                cfg.producers, static_cast<unsigned long long>(total), cfg.bytes, cfg.queue,
                all_accounted() ? "" : "  (TIMED OUT waiting for delivery)");
    std::printf("  publish:  %.3f s  -> %.0f lines/s accepted by the bus\n", pub_s, total / pub_s);
    std::printf("  deliver:  %.3f s  -> %.0f lines/s delivered to every subscriber (%.0f frames/s in total, %.1f MB/s)\n",
                all_s, (frames / double(cfg.subscribers)) / all_s, frames / all_s, bytes / all_s / 1e6);
    std::printf("  received %llu frames, dropped %llu (%.2f%% of %llu)\n", static_cast<unsigned long long>(frames),
                static_cast<unsigned long long>(dropped), 100.0 * dropped / double(total * cfg.subscribers),
                static_cast<unsigned long long>(total * cfg.subscribers));
}

}  // namespace

int main(int argc, char **argv) {
    config cfg;
    for (int i = 1; i + 1 < argc; i += 2) {
        std::string k = argv[i];
        long v = std::strtol(argv[i + 1], nullptr, 10);
        if (k == "--subscribers") cfg.subscribers = static_cast<int>(v);
        else if (k == "--lines") cfg.lines = v;
        else if (k == "--producers") cfg.producers = static_cast<int>(v);
        else if (k == "--bytes") cfg.bytes = static_cast<int>(v);
        else if (k == "--queue") cfg.queue = static_cast<size_t>(v);
        else {
            std::fprintf(stderr, "usage: bench_log_bus [--subscribers N] [--lines N] [--producers N] [--bytes N] [--queue N]\n");
            return 64;
        }
    }
    std::printf("bench_log_bus: %u hardware threads\n", std::thread::hardware_concurrency());
    config lossless = cfg;
    lossless.queue = static_cast<size_t>(cfg.lines) + 16;
    run(lossless, "run 1: queue large enough that nothing is dropped (throughput)");
    run(cfg, "run 2: default per-subscriber queue, producers flat out (drops allowed)");
    return 0;
}
