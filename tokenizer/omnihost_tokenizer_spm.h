/* omnihost_tokenizer_spm: a tiny C API over libsentencepiece, built as its own MODULE.
 *
 * Why a separate module: Debian's libsentencepiece (0.1.97) bundles and exports protobuf-lite 3.14,
 * while libtorch uses the system protobuf 3.21; both in one symbol scope crash at load time. So
 * nothing that links libtorch may link sentencepiece. Instead the client
 * (models/umt5/spm_tokenizer.cpp) dlopen()s this module with RTLD_LOCAL | RTLD_DEEPBIND, which
 * keeps sentencepiece's protobuf private to it.
 *
 * Threading: a handle is immutable after load; encode may be called from several threads at once.
 * Ownership: the caller owns every buffer it passes; the module owns the handle until free.
 * No C++ exception ever leaves these functions.
 */
#ifndef OMNIHOST_TOKENIZER_SPM_H
#define OMNIHOST_TOKENIZER_SPM_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OMNIHOST_SPM_API_VERSION 1u

typedef struct omnihost_spm omnihost_spm;

/* The version this module was built with; a client refuses any other. */
typedef uint32_t (*omnihost_spm_api_version_fn)(void);

/* Loads a sentencepiece model file (spiece.model). Returns NULL on failure and writes a
 * NUL-terminated message (naming the path) into err[0..err_cap). */
typedef omnihost_spm *(*omnihost_spm_load_fn)(const char *model_path, char *err, size_t err_cap);

/* Encodes UTF-8 text (len bytes, need not be NUL-terminated) with the model's own normaliser,
 * exactly like SentencePieceProcessor::EncodeAsIds. Writes at most cap ids into ids and returns
 * the FULL number of ids (which may exceed cap: call again with a bigger buffer, or truncate).
 * Returns -1 on failure with a message in err. */
typedef int64_t (*omnihost_spm_encode_fn)(const omnihost_spm *sp, const char *text, size_t len,
                                           int32_t *ids, int64_t cap, char *err, size_t err_cap);

/* Vocabulary size, and the id of a piece (unk id when absent). */
typedef int32_t (*omnihost_spm_vocab_size_fn)(const omnihost_spm *sp);
typedef int32_t (*omnihost_spm_piece_to_id_fn)(const omnihost_spm *sp, const char *piece);

/* Special ids as the model file defines them (-1 when disabled). */
typedef int32_t (*omnihost_spm_eos_id_fn)(const omnihost_spm *sp);
typedef int32_t (*omnihost_spm_pad_id_fn)(const omnihost_spm *sp);

/* Frees a handle (NULL is fine). */
typedef void (*omnihost_spm_free_fn)(omnihost_spm *sp);

#define OMNIHOST_SPM_SYMBOLS(X)                    \
    X(omnihost_spm_api_version)                    \
    X(omnihost_spm_load)                           \
    X(omnihost_spm_encode)                         \
    X(omnihost_spm_vocab_size)                     \
    X(omnihost_spm_piece_to_id)                    \
    X(omnihost_spm_eos_id)                         \
    X(omnihost_spm_pad_id)                         \
    X(omnihost_spm_free)

#ifdef __cplusplus
}
#endif

#endif /* OMNIHOST_TOKENIZER_SPM_H */
