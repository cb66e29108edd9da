// Model folders are untrusted input: crafted safetensors headers (overflowing shapes, offsets
// beyond the file, huge header lengths, deep JSON), FIFOs and devices named like weight or config
// files, absurd config values and shard names that leave the folder must all be clear model_errors,
// never a crash, a huge allocation or a hang.
#include "core/config.h"
#include "core/hub.h"
#include "core/regular_file.h"
#include "core/safetensors.h"
#include "core/safetensors_header.h"
#include "model_test_support.h"
#include "temp_dir.h"

#include <ATen/ATen.h>
#include <doctest/doctest.h>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <functional>
#include <future>
#include <optional>

namespace fs = std::filesystem;
using namespace omnihost::models;

namespace {

void write_all(const fs::path &p, const std::string &s) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(s.data(), static_cast<std::streamsize>(s.size()));
}
std::string le64(uint64_t n) {
    std::string s(8, '\0');
    for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    return s;
}
// A whole safetensors file: length prefix, header, data.
std::string file_bytes(const std::string &header, const std::string &data) { return le64(header.size()) + header + data; }

std::string error_of(const std::function<void()> &fn) { return test_support::error_of<model_error>(fn); }
std::string header_error(const std::string &bytes) {
    return error_of([&] { parse_safetensors_header(bytes, "crafted.safetensors"); });
}
bool contains(const std::string &s, const std::string &part) { return s.find(part) != std::string::npos; }

// Runs `fn` (which must not block on the FIFO `fifo`) on a thread. When it has not returned within
// the deadline it is stuck in open()/read() on the FIFO: a writer is attached and closed to release
// it, and the hang is reported, so a regression fails the test instead of wedging the suite.
std::string error_without_hang(const fs::path &fifo, const std::function<void()> &fn) {
    auto fut = std::async(std::launch::async, [&] { return error_of(fn); });
    if (fut.wait_for(std::chrono::seconds(20)) == std::future_status::ready) return fut.get();
    while (fut.wait_for(std::chrono::milliseconds(50)) != std::future_status::ready) {
        const int fd = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);  // succeeds once a reader waits
        if (fd >= 0) ::close(fd);
    }
    fut.get();
    return "<hung on the FIFO>";
}

}  // namespace

TEST_CASE("models.core: crafted safetensors headers are clear errors, never overflows") {
    // Shape whose element count overflows 64 bits (2^32 x 2^32 x 4).
    auto e = header_error(file_bytes(
        R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 4], "data_offsets": [0, 0]}})", ""));
    CHECK(contains(e, "crafted.safetensors"));
    CHECK(contains(e, "'w'"));
    CHECK(contains(e, "overflows"));

    // Element count fits, byte count (x 4 for F32) does not: 2^62 elements.
    e = header_error(file_bytes(R"({"w": {"dtype": "F32", "shape": [4611686018427387904], "data_offsets": [0, 0]}})", ""));
    CHECK(contains(e, "'w'"));
    CHECK(contains(e, "overflows a 64-bit byte count"));

    // A dimension beyond int64 (the product would wrap when cast).
    e = header_error(file_bytes(R"({"w": {"dtype": "U8", "shape": [18446744073709551615], "data_offsets": [0, 0]}})", ""));
    CHECK(contains(e, "too large"));

    // Zero elements but strides that would overflow: [0, 2^62, 2^62].
    e = header_error(file_bytes(
        R"({"w": {"dtype": "U8", "shape": [0, 4611686018427387904, 4611686018427387904], "data_offsets": [0, 0]}})", ""));
    CHECK(contains(e, "overflows"));

    // Consistent shape and offsets, but far beyond the 8-byte data section.
    e = header_error(file_bytes(
        R"({"w": {"dtype": "F32", "shape": [1152921504606846976], "data_offsets": [0, 4611686018427387904]}})",
        std::string(8, '\0')));
    CHECK(contains(e, "'w'"));
    CHECK(contains(e, "outside the 8-byte data section"));
    // begin + span would wrap around if added: both offsets near 2^64.
    e = header_error(file_bytes(
        R"({"w": {"dtype": "U8", "shape": [7], "data_offsets": [18446744073709551608, 18446744073709551615]}})",
        std::string(8, '\0')));
    CHECK(contains(e, "outside the 8-byte data section"));
    // Negative and fractional values are not sizes.
    CHECK(contains(header_error(file_bytes(R"({"w": {"dtype": "U8", "shape": [-1], "data_offsets": [0, 0]}})", "")),
                   "non-size"));
    CHECK(contains(header_error(file_bytes(R"({"w": {"dtype": "U8", "shape": [1], "data_offsets": [0.5, 1]}})", "x")),
                   "data_offsets"));
    // Too many dimensions.
    CHECK(contains(header_error(file_bytes(
                       R"({"w": {"dtype": "U8", "shape": [1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1,1], "data_offsets": [0, 1]}})",
                       "x")),
                   "dimensions"));

    // Header lengths: 2^64 - 1, just over the cap, and one byte more than the file holds.
    e = header_error(le64(~0ull) + "{}");
    CHECK(contains(e, "implausible"));
    e = header_error(le64(safetensors_max_header_bytes + 1) + "{}");
    CHECK(contains(e, "implausible"));
    e = header_error(le64(3) + "{}");
    CHECK(contains(e, "exceeds the file size"));
    CHECK(contains(header_error("1234567"), "truncated"));

    // A header nested far deeper than any real one is refused while parsing (no deep recursion).
    const std::string deep(200000, '[');
    e = header_error(file_bytes(deep, ""));
    CHECK(contains(e, "corrupt header"));
    CHECK(contains(e, "nesting"));

    // Control characters in a tensor name are escaped in the message.
    e = header_error(file_bytes("{\"a\\u0001b\": {\"dtype\": \"F32\"}}", ""));
    CHECK(contains(e, "'a\\x01b'"));

    // The same checks hold through tensor_store::open on a real file.
    temp_dir tmp;
    const fs::path f = tmp.path / "crafted.safetensors";
    write_all(f, file_bytes(R"({"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 4], "data_offsets": [0, 0]}})", ""));
    e = error_of([&] { tensor_store::open(f); });
    CHECK(contains(e, f.string()));
    CHECK(contains(e, "overflows"));
    write_all(f, le64(~0ull) + "{}");
    CHECK(contains(error_of([&] { tensor_store::open(f); }), "implausible"));

    // A valid header parses to what it says.
    const auto info = parse_safetensors_header(
        file_bytes(R"({"__metadata__": {"format": "pt"}, "w": {"dtype": "BF16", "shape": [2, 3], "data_offsets": [0, 12]}})",
                   std::string(12, '\0')),
        "ok");
    REQUIRE(info.tensors.size() == 1);
    CHECK(info.tensors[0].name == "w");
    CHECK(info.tensors[0].numel == 6);
    CHECK(info.tensors[0].element_size == 2);
    CHECK(info.tensors[0].shape == std::vector<int64_t>{2, 3});
    CHECK(info.data_size == 12);
}

TEST_CASE("models.core: a FIFO or device named like a weight or config file is an error, not a hang") {
    temp_dir tmp;
    const fs::path weights = tmp.path / "diffusion_pytorch_model.safetensors";
    REQUIRE(::mkfifo(weights.c_str(), 0600) == 0);
    // Through the folder (the name is picked), and named directly.
    auto e = error_without_hang(weights, [&] { tensor_store::open(tmp.path); });
    CHECK(contains(e, weights.string()));
    CHECK(contains(e, "FIFO"));
    e = error_without_hang(weights, [&] { tensor_store::open(weights); });
    CHECK(contains(e, "FIFO"));

    const fs::path config = tmp.path / "config.json";
    REQUIRE(::mkfifo(config.c_str(), 0600) == 0);
    e = error_without_hang(config, [&] { json_config::load(config); });
    CHECK(contains(e, config.string()));
    CHECK(contains(e, "FIFO"));

    const fs::path index = tmp.path / "model_index.json";
    REQUIRE(::mkfifo(index.c_str(), 0600) == 0);
    e = error_without_hang(index, [&] { model_index::load(tmp.path); });
    CHECK(contains(e, "FIFO"));

    // An index file that is a FIFO, and an index whose shard is one.
    temp_dir sharded;
    const fs::path idx = sharded.path / "model.safetensors.index.json";
    REQUIRE(::mkfifo(idx.c_str(), 0600) == 0);
    e = error_without_hang(idx, [&] { tensor_store::open(sharded.path); });
    CHECK(contains(e, "FIFO"));
    fs::remove(idx);
    write_all(idx, R"({"weight_map": {"a": "shard-1.safetensors"}})");
    const fs::path shard = sharded.path / "shard-1.safetensors";
    REQUIRE(::mkfifo(shard.c_str(), 0600) == 0);
    e = error_without_hang(shard, [&] { tensor_store::open(sharded.path); });
    CHECK(contains(e, shard.string()));
    CHECK(contains(e, "FIFO"));

    // A character device that would stream without end.
    if (fs::exists("/dev/zero")) {
        CHECK(contains(error_of([] { json_config::load("/dev/zero"); }), "character device"));
        CHECK(contains(error_of([] { tensor_store::open("/dev/zero"); }), "character device"));
    }
    // A directory where a file is expected.
    fs::create_directories(tmp.path / "dir.json");
    CHECK(contains(error_of([&] { json_config::load(tmp.path / "dir.json"); }), "directory"));
}

TEST_CASE("models.core: side files over the size limit are refused before reading") {
    temp_dir tmp;
    const fs::path f = tmp.path / "config.json";
    write_all(f, "{\"a\": 1}      ");
    CHECK(read_regular_file(f, "config file", 64) == "{\"a\": 1}      ");
    const auto e = error_of([&] { read_regular_file(f, "config file", 8); });
    CHECK(contains(e, f.string()));
    CHECK(contains(e, "over the limit of 8"));
    // A deeply nested config is refused by the JSON depth limit.
    write_all(f, std::string(100000, '[') + std::string(100000, ']'));
    CHECK(contains(error_of([&] { json_config::load(f); }), "nesting"));
}

TEST_CASE("models.core: shard names from an index must be plain file names beside it") {
    temp_dir tmp;
    fs::create_directories(tmp.path / "model");
    save_safetensors(tmp.path / "outside.safetensors", {{"a", at::ones({1})}});
    const fs::path idx = tmp.path / "model" / "diffusion_pytorch_model.safetensors.index.json";
    for (const std::string shard : {"../outside.safetensors", "sub/x.safetensors", "/etc/passwd", "..", ".hidden",
                                    "a\\\\b.safetensors", "x..safetensors"}) {
        INFO(shard);
        write_all(idx, R"({"weight_map": {"a": ")" + shard + R"("}})");
        const auto e = error_of([&] { tensor_store::open(tmp.path / "model"); });
        CHECK(contains(e, idx.string()));
        CHECK(contains(e, "weight_map entry 'a'"));
    }
    write_all(idx, R"({"weight_map": {"a": ""}})");
    CHECK(contains(error_of([&] { tensor_store::open(tmp.path / "model"); }), "empty"));
    // The plain name beside the index still works.
    save_safetensors(tmp.path / "model" / "shard.safetensors", {{"a", at::ones({1})}});
    write_all(idx, R"({"weight_map": {"a": "shard.safetensors"}})");
    CHECK(tensor_store::open(tmp.path / "model").contains("a"));
}

TEST_CASE("models.core: config integers outside their bounds name the key") {
    auto c = json_config::parse(R"({"num_layers": 1000000000, "heads": 8})", "config.json");
    CHECK(c.get_int_in("heads", 1, 1, config_bounds::max_heads) == 8);
    const auto e = error_of([&] { c.get_int_in("num_layers", 1, 0, config_bounds::max_layers); });
    CHECK(contains(e, "config.json: key 'num_layers' is 1000000000"));
    CHECK(contains(e, "[0, 1024]"));
    CHECK(contains(error_of([&] { c.check_range("heads", -1, 1, 4); }), "key 'heads' is -1"));
}

TEST_CASE("models.core: hub ids and revisions cannot name paths") {
    CHECK(is_hub_model_id("Wan-AI/Wan2.1-T2V-1.3B-Diffusers"));
    CHECK(is_hub_model_id("org/name@main"));
    CHECK(is_hub_model_id("org/name@refs/pr/1"));
    for (const std::string bad : {"org/name@../../../etc", "org/name@refs/../../x", "../x", "org/..", "org/name/extra",
                                  "-org/name", "org/name@/abs", "org", "/abs/path", "org/na me", "org/name@"}) {
        INFO(bad);
        CHECK_FALSE(is_hub_model_id(bad));
        CHECK_THROWS_AS(resolve_hub_model(bad), model_error);
    }
}

TEST_CASE("models.core: a FIFO as a Hugging Face cache ref does not block the lookup") {
    temp_dir tmp;
    const char *old = std::getenv("HF_HUB_CACHE");
    const std::optional<std::string> saved = old ? std::optional<std::string>(old) : std::nullopt;
    ::setenv("HF_HUB_CACHE", tmp.path.c_str(), 1);
    const fs::path repo = tmp.path / "models--Org--Name";
    fs::create_directories(repo / "snapshots" / "abc");
    fs::create_directories(repo / "refs");
    REQUIRE(::mkfifo((repo / "refs" / "main").c_str(), 0600) == 0);
    fs::path got;
    const auto e = error_without_hang(repo / "refs" / "main", [&] { got = resolve_hub_model("Org/Name"); });
    CHECK(e == "<no error>");
    CHECK(got == repo / "snapshots" / "abc");  // the ref is skipped; the only snapshot is taken
    if (saved) ::setenv("HF_HUB_CACHE", saved->c_str(), 1);
    else ::unsetenv("HF_HUB_CACHE");
}
