// The sentencepiece side of the tokenizer: the only translation unit in the project that includes
// sentencepiece headers. Built as MODULE omnihost_tokenizer_spm; see omnihost_tokenizer_spm.h.
#include "omnihost_tokenizer_spm.h"

#include <sentencepiece_processor.h>

#include <cstdio>
#include <cstring>
#include <exception>
#include <string>
#include <vector>

#define OMNIHOST_SPM_EXPORT extern "C" __attribute__((visibility("default")))

struct omnihost_spm {
    sentencepiece::SentencePieceProcessor processor;
};

namespace {

void write_error(char *err, size_t err_cap, const std::string &message) {
    if (err == nullptr || err_cap == 0) return;
    std::snprintf(err, err_cap, "%s", message.c_str());
}

}  // namespace

OMNIHOST_SPM_EXPORT uint32_t omnihost_spm_api_version(void) { return OMNIHOST_SPM_API_VERSION; }

OMNIHOST_SPM_EXPORT omnihost_spm *omnihost_spm_load(const char *model_path, char *err, size_t err_cap) {
    if (model_path == nullptr) {
        write_error(err, err_cap, "omnihost_spm_load: model_path is NULL");
        return nullptr;
    }
    try {
        auto *sp = new omnihost_spm();
        const auto status = sp->processor.Load(model_path);
        if (!status.ok()) {
            write_error(err, err_cap,
                        std::string("cannot load sentencepiece model '") + model_path + "': " + status.ToString());
            delete sp;
            return nullptr;
        }
        return sp;
    } catch (const std::exception &e) {
        write_error(err, err_cap, std::string("cannot load sentencepiece model '") + model_path + "': " + e.what());
    } catch (...) {
        write_error(err, err_cap, std::string("cannot load sentencepiece model '") + model_path + "'");
    }
    return nullptr;
}

OMNIHOST_SPM_EXPORT int64_t omnihost_spm_encode(const omnihost_spm *sp, const char *text, size_t len,
                                                 int32_t *ids, int64_t cap, char *err, size_t err_cap) {
    if (sp == nullptr || (text == nullptr && len != 0) || (ids == nullptr && cap > 0)) {
        write_error(err, err_cap, "omnihost_spm_encode: NULL argument");
        return -1;
    }
    try {
        std::vector<int> out;
        const auto status = sp->processor.Encode(std::string(text == nullptr ? "" : text, len), &out);
        if (!status.ok()) {
            write_error(err, err_cap, "sentencepiece encode failed: " + status.ToString());
            return -1;
        }
        const int64_t n = static_cast<int64_t>(out.size());
        for (int64_t i = 0; i < n && i < cap; ++i) ids[i] = out[static_cast<size_t>(i)];
        return n;
    } catch (const std::exception &e) {
        write_error(err, err_cap, std::string("sentencepiece encode failed: ") + e.what());
    } catch (...) {
        write_error(err, err_cap, "sentencepiece encode failed");
    }
    return -1;
}

OMNIHOST_SPM_EXPORT int32_t omnihost_spm_vocab_size(const omnihost_spm *sp) {
    return sp == nullptr ? -1 : sp->processor.GetPieceSize();
}

OMNIHOST_SPM_EXPORT int32_t omnihost_spm_piece_to_id(const omnihost_spm *sp, const char *piece) {
    if (sp == nullptr || piece == nullptr) return -1;
    try {
        return sp->processor.PieceToId(piece);
    } catch (...) {
        return -1;
    }
}

OMNIHOST_SPM_EXPORT int32_t omnihost_spm_eos_id(const omnihost_spm *sp) {
    return sp == nullptr ? -1 : sp->processor.eos_id();
}

OMNIHOST_SPM_EXPORT int32_t omnihost_spm_pad_id(const omnihost_spm *sp) {
    return sp == nullptr ? -1 : sp->processor.pad_id();
}

OMNIHOST_SPM_EXPORT void omnihost_spm_free(omnihost_spm *sp) { delete sp; }
