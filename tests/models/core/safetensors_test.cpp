#include "core/safetensors.h"
#include "model_test_support.h"
#include "temp_dir.h"

#include <ATen/ATen.h>
#include <doctest/doctest.h>

#include <cstring>
#include <fstream>

namespace fs = std::filesystem;
using namespace omnihost::models;

namespace {

std::string read_all(const fs::path &p) {
    std::ifstream in(p, std::ios::binary);
    return {std::istreambuf_iterator<char>(in), {}};
}
void write_all(const fs::path &p, const std::string &s) {
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(s.data(), static_cast<std::streamsize>(s.size()));
}
// A raw safetensors file from a header text and a data section.
void write_raw(const fs::path &p, const std::string &header, const std::string &data) {
    std::string s(8, '\0');
    uint64_t n = header.size();
    for (int i = 0; i < 8; ++i) s[i] = static_cast<char>((n >> (8 * i)) & 0xff);
    write_all(p, s + header + data);
}
std::string error_of(const std::function<void()> &fn) { return test_support::error_of<model_error>(fn); }
bool contains(const std::string &s, const std::string &part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST_CASE("models.core: save then open round-trips every supported dtype") {
    temp_dir tmp;
    const fs::path f = tmp.path / "t.safetensors";
    at::Tensor a = at::arange(12, at::kFloat).reshape({3, 4}) / 7;
    std::vector<std::pair<std::string, at::Tensor>> ts = {
        {"f32", a},
        {"f64", a.to(at::kDouble)},
        {"f16", a.to(at::kHalf)},
        {"bf16", a.to(at::kBFloat16)},
        {"i64", at::arange(5, at::kLong) - 2},
        {"i32", at::arange(5, at::kInt)},
        {"i16", at::arange(5, at::kShort)},
        {"i8", at::arange(5, at::kChar) - 3},
        {"u8", at::arange(5, at::kByte)},
        {"b", at::arange(4, at::kLong).remainder(2).to(at::kBool)},
        {"empty", at::empty({0, 3}, at::kFloat)},
        {"scalar", at::scalar_tensor(3.5, at::kFloat)},
    };
    save_safetensors(f, ts);
    CHECK_FALSE(fs::exists(tmp.path / "t.safetensors.partial"));
    auto store = tensor_store::open(f);
    CHECK(store.names().size() == ts.size());
    for (const auto &[name, t] : ts) {
        INFO(name);
        REQUIRE(store.contains(name));
        at::Tensor got = store.get(name);
        CHECK((got.scalar_type() == t.scalar_type()));
        CHECK(got.sizes() == t.sizes());
        CHECK(at::equal(got, t));
    }
    // The 8-byte length prefix says exactly how long the header is, and data starts 8-aligned.
    std::string raw = read_all(f);
    uint64_t n = 0;
    for (int i = 7; i >= 0; --i) n = (n << 8) | static_cast<unsigned char>(raw[i]);
    CHECK((8 + n) % 8 == 0);
    CHECK(raw[8] == '{');
}

TEST_CASE("models.core: F16 and BF16 convert to float32 exactly for representable values") {
    temp_dir tmp;
    const fs::path f = tmp.path / "half.safetensors";
    // Values exactly representable in both formats (powers of two and small integers).
    at::Tensor v = at::tensor({0.0f, 1.0f, -2.0f, 0.5f, 3.0f, 1024.0f, -0.25f});
    save_safetensors(f, {{"h", v.to(at::kHalf)}, {"b", v.to(at::kBFloat16)}});
    auto store = tensor_store::open(f);
    CHECK(at::equal(store.get("h").to(at::kFloat), v));
    CHECK(at::equal(store.get("b").to(at::kFloat), v));
    // BF16 keeps float32's exponent range: 1e30 survives (F16 would overflow to inf).
    at::Tensor big = at::tensor({1e30f});
    save_safetensors(f, {{"b", big.to(at::kBFloat16)}});
    auto s2 = tensor_store::open(f);
    CHECK(std::abs(s2.get("b").to(at::kFloat).item<float>() / 1e30f - 1.0f) < 1e-2f);
    // Bit pattern check: BF16 0x3FC0 is 1.5.
    at::Tensor bits = at::tensor({static_cast<int16_t>(0x3FC0)}, at::kShort);
    save_safetensors(f, {{"b", bits.view(at::kBFloat16)}});
    auto s3 = tensor_store::open(f);
    CHECK(s3.get("b").to(at::kFloat).item<float>() == 1.5f);
}

TEST_CASE("models.core: corrupt and truncated files are model_errors naming the file") {
    temp_dir tmp;
    const fs::path f = tmp.path / "bad.safetensors";

    write_all(f, "abc");
    auto e = error_of([&] { tensor_store::open(f); });
    CHECK(contains(e, f.string()));
    CHECK(contains(e, "truncated"));

    write_raw(f, "{\"a\": {\"dtype\": \"F32\", \"shape\": [2], \"data_of", "");
    e = error_of([&] { tensor_store::open(f); });
    CHECK(contains(e, "corrupt header"));

    // Header length larger than the file.
    std::string s(8, '\0');
    s[0] = static_cast<char>(0xff);
    s[1] = static_cast<char>(0x10);
    write_all(f, s + "{}");
    e = error_of([&] { tensor_store::open(f); });
    CHECK(contains(e, "exceeds the file size"));

    // Data section shorter than the offsets say (a truncated download).
    save_safetensors(f, {{"w", at::ones({64}, at::kFloat)}});
    std::string raw = read_all(f);
    write_all(f, raw.substr(0, raw.size() - 10));
    e = error_of([&] { tensor_store::open(f); });
    CHECK(contains(e, "'w'"));
    CHECK(contains(e, "truncated"));

    // Offsets that do not match shape x dtype.
    write_raw(f, "{\"w\": {\"dtype\": \"F32\", \"shape\": [3], \"data_offsets\": [0, 8]}}", std::string(8, '\0'));
    e = error_of([&] { tensor_store::open(f); });
    CHECK(contains(e, "'w'"));
    CHECK(contains(e, "need 12"));

    // begin > end.
    write_raw(f, "{\"w\": {\"dtype\": \"F32\", \"shape\": [0], \"data_offsets\": [8, 4]}}", std::string(8, '\0'));
    e = error_of([&] { tensor_store::open(f); });
    CHECK(contains(e, "data_offsets"));

    // Not an object / missing fields.
    write_raw(f, "[1, 2]", "");
    CHECK(contains(error_of([&] { tensor_store::open(f); }), "not a JSON object"));
    write_raw(f, "{\"w\": {\"dtype\": \"F32\"}}", "");
    CHECK(contains(error_of([&] { tensor_store::open(f); }), "'w'"));

    // Missing file.
    e = error_of([&] { tensor_store::open(tmp.path / "nope.safetensors"); });
    CHECK(contains(e, "nope.safetensors"));
}

TEST_CASE("models.core: an unsupported dtype names the tensor and the dtype") {
    temp_dir tmp;
    const fs::path f = tmp.path / "f8.safetensors";
    write_raw(f, "{\"__metadata__\": {\"format\": \"pt\"}, \"x.weight\": {\"dtype\": \"F8_E4M3\", \"shape\": [4], \"data_offsets\": [0, 4]}}",
              std::string(4, '\0'));
    auto e = error_of([&] { tensor_store::open(f); });
    CHECK(contains(e, f.string()));
    CHECK(contains(e, "'x.weight'"));
    CHECK(contains(e, "F8_E4M3"));
    // Saving a dtype safetensors cannot hold here is refused too.
    e = error_of([&] { save_safetensors(tmp.path / "c.safetensors", {{"z", at::zeros({2}, at::kComplexFloat)}}); });
    CHECK(contains(e, "'z'"));
    CHECK_FALSE(fs::exists(tmp.path / "c.safetensors"));
}

TEST_CASE("models.core: sharded checkpoints via *.safetensors.index.json") {
    temp_dir tmp;
    save_safetensors(tmp.path / "m-00001-of-00002.safetensors", {{"a", at::full({2}, 1.0f)}, {"b", at::full({3}, 2.0f)}});
    save_safetensors(tmp.path / "m-00002-of-00002.safetensors", {{"c", at::full({4}, 3.0f)}});
    write_all(tmp.path / "diffusion_pytorch_model.safetensors.index.json",
              R"({"metadata": {"total_size": 36}, "weight_map": {"a": "m-00001-of-00002.safetensors",
                 "b": "m-00001-of-00002.safetensors", "c": "m-00002-of-00002.safetensors"}})");
    // Opening the folder picks the index.
    auto store = tensor_store::open(tmp.path);
    CHECK(store.names() == std::vector<std::string>{"a", "b", "c"});
    CHECK(store.get("c").sum().item<float>() == 12.0f);
    CHECK(store.source().filename() == "diffusion_pytorch_model.safetensors.index.json");

    // A shard that lacks a listed tensor, and a missing shard, are errors naming the key.
    write_all(tmp.path / "diffusion_pytorch_model.safetensors.index.json",
              R"({"weight_map": {"a": "m-00001-of-00002.safetensors", "zz": "m-00002-of-00002.safetensors"}})");
    auto e = error_of([&] { tensor_store::open(tmp.path); });
    CHECK(contains(e, "'zz'"));
    write_all(tmp.path / "diffusion_pytorch_model.safetensors.index.json",
              R"({"weight_map": {"a": "gone.safetensors"}})");
    e = error_of([&] { tensor_store::open(tmp.path); });
    CHECK(contains(e, "gone.safetensors"));
    write_all(tmp.path / "diffusion_pytorch_model.safetensors.index.json", R"({"nothing": 1})");
    CHECK(contains(error_of([&] { tensor_store::open(tmp.path); }), "weight_map"));
}

TEST_CASE("models.core: folder resolution") {
    temp_dir tmp;
    CHECK(contains(error_of([&] { tensor_store::open(tmp.path); }), "no *.safetensors"));
    save_safetensors(tmp.path / "a.safetensors", {{"x", at::ones({1})}});
    CHECK(tensor_store::open(tmp.path).contains("x"));
    save_safetensors(tmp.path / "b.safetensors", {{"y", at::ones({1})}});
    CHECK(contains(error_of([&] { tensor_store::open(tmp.path); }), "several candidate"));
    save_safetensors(tmp.path / "model.safetensors", {{"z", at::ones({1})}});
    CHECK(tensor_store::open(tmp.path).contains("z"));
}

TEST_CASE("models.core: tensors stay valid after the store is gone") {
    temp_dir tmp;
    const fs::path f = tmp.path / "t.safetensors";
    save_safetensors(f, {{"w", at::arange(1000, at::kFloat)}});
    at::Tensor w;
    {
        auto store = tensor_store::open(f);
        w = store.get("w");
    }
    CHECK(w.sum().item<double>() == doctest::Approx(499500.0));
    // In-place writes go to a private copy of the page, never to the file.
    w.add_(1);
    auto again = tensor_store::open(f);
    CHECK(again.get("w")[0].item<float>() == 0.0f);
}
