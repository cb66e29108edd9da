// Loads the sentencepiece module privately and wraps its C API.
//
// dlopen flags, and why each matters:
//  RTLD_LOCAL    sentencepiece's bundled protobuf 3.14 symbols must not become global, or libtorch's
//                protobuf 3.21 (loaded later) would bind to them;
//  RTLD_DEEPBIND the module and libsentencepiece resolve their own symbols first. Without it, in a
//                process whose global scope already holds libprotobuf.so.32 (an executable linked
//                against libtorch), sentencepiece binds to protobuf 3.21 and aborts on load
//                ("compiled against version 3.14.0 ..."), measured here. (ASan does not support
//                RTLD_DEEPBIND; sanitizer builds must not run the tokenizer.)
//  RTLD_NODELETE never unmapped: protobuf's static state is not made to be torn down mid-process.
#include "spm_tokenizer.h"

#include "omnihost_tokenizer_spm.h"

#include <dlfcn.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <map>
#include <mutex>

#ifndef OMNIHOST_TOKENIZER_MODULE_NAME
#define OMNIHOST_TOKENIZER_MODULE_NAME "libomnihost_tokenizer_spm.so"
#endif

namespace omnihost::text {
namespace {

namespace fs = std::filesystem;

struct module_api {
#define OMNIHOST_SPM_MEMBER(name) name##_fn name = nullptr;
    OMNIHOST_SPM_SYMBOLS(OMNIHOST_SPM_MEMBER)
#undef OMNIHOST_SPM_MEMBER
};

// One resolved API per module path for the whole process (dlopen itself is refcounted, and the
// module is never unloaded, so the table stays valid).
const module_api &open_module(const fs::path &path) {
    static std::mutex mutex;
    static std::map<std::string, module_api> opened;
    const std::lock_guard<std::mutex> lock(mutex);
    if (auto it = opened.find(path.string()); it != opened.end()) return it->second;

    std::error_code ec;
    if (!fs::is_regular_file(path, ec)) {
        throw tokenizer_error("sentencepiece tokenizer module not found: " + path.string());
    }
    void *handle = dlopen(path.c_str(), RTLD_NOW | RTLD_LOCAL | RTLD_DEEPBIND | RTLD_NODELETE);
    if (handle == nullptr) {
        const char *why = dlerror();
        throw tokenizer_error("cannot load sentencepiece tokenizer module " + path.string() + ": " +
                              (why != nullptr ? why : "unknown dlopen error"));
    }
    module_api api;
#define OMNIHOST_SPM_RESOLVE(name)                                                                 \
    api.name = reinterpret_cast<name##_fn>(dlsym(handle, #name));                                  \
    if (api.name == nullptr) {                                                                     \
        throw tokenizer_error("sentencepiece tokenizer module " + path.string() + " lacks symbol " #name); \
    }
    OMNIHOST_SPM_SYMBOLS(OMNIHOST_SPM_RESOLVE)
#undef OMNIHOST_SPM_RESOLVE
    if (api.omnihost_spm_api_version() != OMNIHOST_SPM_API_VERSION) {
        throw tokenizer_error("sentencepiece tokenizer module " + path.string() + " has API version " +
                              std::to_string(api.omnihost_spm_api_version()) + ", expected " +
                              std::to_string(OMNIHOST_SPM_API_VERSION));
    }
    return opened.emplace(path.string(), api).first->second;
}

// The file of the shared object (plugin or executable) that contains this function.
fs::path containing_binary() {
    Dl_info info{};
    if (dladdr(reinterpret_cast<void *>(&containing_binary), &info) != 0 && info.dli_fname != nullptr &&
        info.dli_fname[0] != '\0') {
        std::error_code ec;
        auto p = fs::canonical(info.dli_fname, ec);
        if (!ec) return p;
    }
    std::error_code ec;
    auto exe = fs::read_symlink("/proc/self/exe", ec);
    return ec ? fs::path() : exe;
}

}  // namespace

fs::path find_tokenizer_module() {
    if (const char *env = std::getenv("OMNIHOST_TOKENIZER_MODULE"); env != nullptr && env[0] != '\0') {
        std::error_code ec;
        if (fs::is_regular_file(env, ec)) return fs::path(env);
        throw tokenizer_error(std::string("sentencepiece tokenizer module not found at $OMNIHOST_TOKENIZER_MODULE=") +
                              env);
    }
    std::vector<fs::path> looked;
    if (const auto self = containing_binary(); !self.empty()) {
        looked.push_back(self.parent_path() / OMNIHOST_TOKENIZER_MODULE_NAME);
    }
#ifdef OMNIHOST_TOKENIZER_MODULE_BUILD_PATH
    looked.emplace_back(OMNIHOST_TOKENIZER_MODULE_BUILD_PATH);
#endif
    std::string where;
    for (const auto &candidate : looked) {
        std::error_code ec;
        if (fs::is_regular_file(candidate, ec)) return candidate;
        where += (where.empty() ? "" : ", ") + candidate.string();
    }
    throw tokenizer_error("sentencepiece tokenizer module " OMNIHOST_TOKENIZER_MODULE_NAME " not found; looked at: " +
                          where + " (set OMNIHOST_TOKENIZER_MODULE to its path)");
}

// An open descriptor of a regular file (checked with stat before and fstat after an O_NONBLOCK
// open); tokenizer_error naming the file and what it really is otherwise.
class regular_fd {
public:
    explicit regular_fd(const fs::path &file) {
        struct stat st {};
        if (::stat(file.c_str(), &st) != 0)
            throw tokenizer_error("cannot open tokenizer model " + file.string() + ": " + std::strerror(errno));
        check(file, st.st_mode);
        fd_ = ::open(file.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
        if (fd_ < 0) throw tokenizer_error("cannot open tokenizer model " + file.string() + ": " + std::strerror(errno));
        if (::fstat(fd_, &st) != 0) st.st_mode = 0;
        try {
            check(file, st.st_mode);
        } catch (...) {
            ::close(fd_);
            throw;
        }
    }
    ~regular_fd() { ::close(fd_); }
    regular_fd(const regular_fd &) = delete;
    regular_fd &operator=(const regular_fd &) = delete;
    std::string proc_path() const { return "/proc/self/fd/" + std::to_string(fd_); }

private:
    int fd_ = -1;
    static void check(const fs::path &file, mode_t mode) {
        if (S_ISREG(mode)) return;
        const char *kind = S_ISDIR(mode) ? "a directory" : S_ISFIFO(mode) ? "a FIFO" : S_ISCHR(mode) ? "a character device"
                           : S_ISBLK(mode) ? "a block device" : S_ISSOCK(mode) ? "a socket" : "not a regular file";
        throw tokenizer_error("cannot read tokenizer model " + file.string() + ": it is " + kind +
                              ", only regular files are read from a model folder");
    }
};

struct spm_tokenizer::impl {
    const module_api *api = nullptr;
    omnihost_spm *handle = nullptr;
    fs::path model_path;

    ~impl() {
        if (handle != nullptr) api->omnihost_spm_free(handle);
    }
};

spm_tokenizer spm_tokenizer::load(const fs::path &model, const fs::path &module) {
    std::error_code ec;
    fs::path file = fs::is_directory(model, ec) ? model / "spiece.model" : model;
    if (!fs::exists(file, ec)) {
        throw tokenizer_error("tokenizer model file not found: " + file.string() +
                              (file == model ? "" : " (a tokenizer folder must contain spiece.model)"));
    }
    // The model folder is untrusted: only a regular file is handed to sentencepiece (a FIFO would
    // block its open() forever). The file is opened here with O_NONBLOCK and checked with fstat,
    // and the module reads that very descriptor through /proc/self/fd, so the path cannot be
    // swapped for a FIFO between the check and the read.
    const regular_fd fd(file);
    const module_api &api = open_module(module.empty() ? find_tokenizer_module() : module);
    char err[1024] = {0};
    const std::string via = fs::is_directory("/proc/self/fd", ec) ? fd.proc_path() : file.string();
    omnihost_spm *handle = api.omnihost_spm_load(via.c_str(), err, sizeof err);
    if (handle == nullptr) {
        std::string why = err;
        for (auto at = why.find(via); at != std::string::npos; at = why.find(via, at + file.string().size()))
            why.replace(at, via.size(), file.string());
        throw tokenizer_error(why);
    }
    auto p = std::make_unique<impl>();
    p->api = &api;
    p->handle = handle;
    p->model_path = file;
    return spm_tokenizer(std::move(p));
}

std::vector<int32_t> spm_tokenizer::encode(std::string_view utf8) const {
    std::vector<int32_t> ids(utf8.size() + 8);
    char err[1024] = {0};
    for (;;) {
        const int64_t n = impl_->api->omnihost_spm_encode(impl_->handle, utf8.data(), utf8.size(), ids.data(),
                                                          static_cast<int64_t>(ids.size()), err, sizeof err);
        if (n < 0) throw tokenizer_error(err);
        if (static_cast<size_t>(n) <= ids.size()) {
            ids.resize(static_cast<size_t>(n));
            return ids;
        }
        ids.resize(static_cast<size_t>(n));  // byte fallback etc. may yield more ids than bytes
    }
}

int32_t spm_tokenizer::vocab_size() const { return impl_->api->omnihost_spm_vocab_size(impl_->handle); }
int32_t spm_tokenizer::eos_id() const { return impl_->api->omnihost_spm_eos_id(impl_->handle); }
int32_t spm_tokenizer::pad_id() const { return impl_->api->omnihost_spm_pad_id(impl_->handle); }
const fs::path &spm_tokenizer::model_path() const { return impl_->model_path; }

spm_tokenizer::spm_tokenizer(std::unique_ptr<impl> p) : impl_(std::move(p)) {}
spm_tokenizer::spm_tokenizer(spm_tokenizer &&) noexcept = default;
spm_tokenizer &spm_tokenizer::operator=(spm_tokenizer &&) noexcept = default;
spm_tokenizer::~spm_tokenizer() = default;

token_batch tokenize_padded(const spm_tokenizer &tok, const std::vector<std::string> &texts, int64_t max_length) {
    if (max_length < 1) {
        throw tokenizer_error("max_sequence_length must be >= 1, got " + std::to_string(max_length));
    }
    const int32_t eos = tok.eos_id();
    if (eos < 0) throw tokenizer_error("tokenizer model " + tok.model_path().string() + " has no </s> (eos) id");
    // T5 pads with <pad>; a model without one pads with 0 as HF's T5 conventions do.
    const int64_t pad = tok.pad_id() >= 0 ? tok.pad_id() : 0;

    token_batch b;
    b.batch = static_cast<int64_t>(texts.size());
    b.length = max_length;
    b.input_ids.assign(static_cast<size_t>(b.batch * max_length), pad);
    b.attention_mask.assign(static_cast<size_t>(b.batch * max_length), 0);
    for (int64_t r = 0; r < b.batch; ++r) {
        const auto ids = tok.encode(texts[static_cast<size_t>(r)]);
        const int64_t keep = std::min<int64_t>(static_cast<int64_t>(ids.size()), max_length - 1);
        int64_t *row_ids = b.input_ids.data() + r * max_length;
        int64_t *row_mask = b.attention_mask.data() + r * max_length;
        for (int64_t i = 0; i < keep; ++i) row_ids[i] = ids[static_cast<size_t>(i)];
        row_ids[keep] = eos;
        for (int64_t i = 0; i <= keep; ++i) row_mask[i] = 1;
        b.seq_lens.push_back(keep + 1);
    }
    return b;
}

}  // namespace omnihost::text
