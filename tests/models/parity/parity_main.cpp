// Runner main for every parity executable: parity_<component> and the aggregate omnihost-parity.
//   parity_x [--golden DIR] [--override DIR] [--device cpu|cuda[:N]] [--dtype fp32|bf16] [--list] [FILTER...]
// FILTERs are substrings; a case runs when it contains any of them. One line per case, then a
// summary; exit status 1 when any case fails, when no case matches, or when DIR is missing.
#include "parity.h"

#include "core/runtime.h"

#include <torch/version.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <map>

#ifndef OMNIHOST_GOLDEN_DIR
#define OMNIHOST_GOLDEN_DIR "../shared/golden"
#endif

namespace omnihost::parity {
std::map<std::string, case_fn> &registry();
std::vector<std::string> &duplicate_cases();
}

namespace {

// The bf16 tolerance against the fp32 goldens: bf16 keeps 8 significant bits (relative step
// 2^-8 = 0.4 %), and the tiny golden models stack a few dozen such roundings between input and
// output (measured on the CPU: docs/performance.md).
constexpr double bf16_atol = 5e-2, bf16_rtol = 5e-2;

void usage() {
    std::printf("usage: parity [--golden DIR] [--override DIR] [--device cpu|cuda[:N]] [--dtype fp32|bf16] [--list] [FILTER...]\n"
                "  --golden DIR  golden set root (default %s)\n"
                "  --override DIR  files here replace the golden set's files of the same relative path\n"
                "                (the same calls re-recorded on another libtorch: tests/golden_local/torch2)\n"
                "  --device D    device for the cases that take one (default cpu); results compare on the CPU\n"
                "  --dtype T     model dtype for the cases that take one (default fp32); bf16 compares with\n"
                "                at least atol %g rtol %g against the fp32 goldens\n"
                "  --list        print the case names and exit\n"
                "  FILTER        run only cases whose name contains one of these substrings\n",
                OMNIHOST_GOLDEN_DIR, bf16_atol, bf16_rtol);
}

}  // namespace

int main(int argc, char **argv) {
    using namespace omnihost;
    std::filesystem::path golden = OMNIHOST_GOLDEN_DIR;
    std::filesystem::path override_root;
    bool list = false;
    std::string device_text = "cpu", dtype_text = "fp32";
    std::vector<std::string> filters;
    for (int i = 1; i < argc; ++i) {
        const std::string a = argv[i];
        if (a == "--golden") {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "--golden needs a folder\n");
                return 2;
            }
            golden = argv[++i];
        } else if (a.rfind("--golden=", 0) == 0) {
            golden = a.substr(9);
        } else if (a == "--override") {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "--override needs a folder\n");
                return 2;
            }
            override_root = argv[++i];
        } else if (a == "--device" || a == "--dtype") {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s needs a value\n", a.c_str());
                return 2;
            }
            (a == "--device" ? device_text : dtype_text) = argv[++i];
        } else if (a == "--list") {
            list = true;
        } else if (a == "-h" || a == "--help") {
            usage();
            return 0;
        } else if (!a.empty() && a[0] == '-') {
            std::fprintf(stderr, "unknown option %s\n", a.c_str());
            usage();
            return 2;
        } else {
            filters.push_back(a);
        }
    }
    auto selected = [&](const std::string &name) {
        if (filters.empty()) return true;
        for (const auto &f : filters)
            if (name.find(f) != std::string::npos) return true;
        return false;
    };
    const auto &cases = parity::registry();
    if (list) {
        for (const auto &[name, fn] : cases)
            if (selected(name)) std::printf("%s\n", name.c_str());
        return 0;
    }
    if (!std::filesystem::is_directory(golden)) {
        std::printf("FAIL golden folder missing: %s\n", golden.string().c_str());
        return 1;
    }
    c10::Device device = c10::kCPU;
    c10::ScalarType dtype = c10::kFloat;
    try {
        device = models::parse_device(device_text);
        dtype = models::parse_dtype(dtype_text);
    } catch (const std::exception &e) {
        std::printf("FAIL %s\n", e.what());
        return 2;
    }
    const bool placed_run = device != c10::Device(c10::kCPU) || dtype != c10::kFloat;
    if (dtype != c10::kFloat) parity::set_tolerance_floor(bf16_atol, bf16_rtol);
    models::tune_allocator();
    models::configure_threads();  // every core, as the goldens were produced (2 threads)
    std::printf("libtorch %d.%d.%d, device %s, dtype %s\n", TORCH_VERSION_MAJOR, TORCH_VERSION_MINOR,
                TORCH_VERSION_PATCH, device.str().c_str(), models::dtype_name(dtype).c_str());

    int passed = 0, failed = 0;
    for (const auto &name : parity::duplicate_cases()) {
        std::printf("FAIL %s  registered twice (two case files use this name)\n", name.c_str());
        ++failed;
    }
    if (!override_root.empty() && !std::filesystem::is_directory(override_root)) {
        std::printf("FAIL override folder missing: %s\n", override_root.string().c_str());
        return 1;
    }
    parity::context ctx{golden, override_root, {}, device, dtype};
    int unplaced = 0;
    for (const auto &[name, fn] : cases) {
        if (!selected(name)) continue;
        const auto t0 = std::chrono::steady_clock::now();
        std::string line;
        ctx.placed = false;
        ctx.overrides_used.clear();
        try {
            parity::outcome out = fn(ctx);
            char buf[160];
            std::snprintf(buf, sizeof buf, "max_abs=%.2g max_rel=%.2g", out.max_abs, out.max_rel);
            line = "PASS " + name + "  " + buf + (out.note.empty() ? "" : " (" + out.note + ")");
            ++passed;
        } catch (const parity::failure &e) {
            line = "FAIL " + name + "  " + e.what();
            ++failed;
        } catch (const std::exception &e) {
            line = "FAIL " + name + "  error: " + e.what();
            ++failed;
        }
        if (!ctx.overrides_used.empty())
            line += "  [reference from " + (override_root / ctx.overrides_used.front()).string() + "]";
        if (placed_run && !ctx.placed) {
            line += "  [ran on cpu fp32: this case takes no device/dtype]";
            ++unplaced;
        } else if (dtype != c10::kFloat) {
            char tol[64];
            std::snprintf(tol, sizeof tol, "  [%s: atol >= %g, rtol >= %g]", models::dtype_name(dtype).c_str(),
                          bf16_atol, bf16_rtol);
            line += tol;
        }
        const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        char tbuf[32];
        std::snprintf(tbuf, sizeof tbuf, "  [%.2fs]", secs);
        std::printf("%s%s\n", line.c_str(), tbuf);
        std::fflush(stdout);
    }
    if (passed + failed == 0) {
        std::printf("FAIL no parity case matches the filters\n");
        return 1;
    }
    if (placed_run)
        std::printf("%d of %d cases ran on %s %s; %d took no device/dtype and ran on cpu fp32\n",
                    passed + failed - unplaced, passed + failed, device.str().c_str(),
                    models::dtype_name(dtype).c_str(), unplaced);
    std::printf("%d passed, %d failed (golden: %s)\n", passed, failed, golden.string().c_str());
    return failed ? 1 : 0;
}
