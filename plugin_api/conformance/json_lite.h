/*
 * json_lite.h — a tiny, allocation-free JSON reader for plain-C plugins and the conformance kit.
 *
 * What it does: validate a JSON text (RFC 8259 grammar), find a member of an object by key, read
 * a member's value as string/integer/number/bool, and escape a string for writing JSON.
 *
 * Limits (by design, to stay small):
 *   - keys are compared with their raw text: a key written with escapes ("\u0061") does not match
 *     "a"; the first occurrence of a duplicate key wins;
 *   - UTF-8 is passed through unchecked; \uXXXX escapes (with surrogate pairs) are decoded to UTF-8;
 *   - nesting deeper than OMNIHOST_JSON_MAX_DEPTH is rejected; integers outside int64 fail to read;
 *   - lookup is linear in the size of the object text.
 * All functions take NUL-terminated text and never write outside the buffers they are given.
 */
#ifndef OMNIHOST_JSON_LITE_H
#define OMNIHOST_JSON_LITE_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define OMNIHOST_JSON_MAX_DEPTH 64

/* 1 if `text` is exactly one JSON value (surrounding whitespace allowed), else 0 and, when
 * err_offset is non-NULL, the byte offset where parsing failed. */
int omnihost_json_validate(const char *text, size_t *err_offset);

/* First character of a value: 'o' object, 'a' array, 's' string, 'n' number, 't'/'f' bool,
 * 'z' null, 0 for anything else. Leading whitespace is skipped. */
char omnihost_json_type(const char *value);

/* Pointer to the value of member `key` in the object starting at `object` (leading whitespace
 * allowed), or NULL when absent or when `object` is not a well-formed object. */
const char *omnihost_json_find(const char *object, const char *key);

/* Pointer to element `index` (0-based) of the array starting at `array`, or NULL when out of range
 * or malformed. */
const char *omnihost_json_index(const char *array, size_t index);

/* Readers for a value pointer (as returned by omnihost_json_find). Return 1 on success, 0 when the
 * value has another type or does not fit. */
int omnihost_json_read_int64(const char *value, int64_t *out);
int omnihost_json_read_double(const char *value, double *out);
int omnihost_json_read_bool(const char *value, int *out);
/* Decodes a string value into buf (always NUL-terminated when cap > 0). Returns 0 if not a string
 * or if it did not fit (buf then holds the truncated prefix). */
int omnihost_json_read_string(const char *value, char *buf, size_t cap);

/* Convenience: member lookup + read; return 0 when the key is missing or has another type. */
int omnihost_json_get_int64(const char *object, const char *key, int64_t *out);
int omnihost_json_get_bool(const char *object, const char *key, int *out);
int omnihost_json_get_string(const char *object, const char *key, char *buf, size_t cap);

/* Writes `in` as a JSON string literal including the quotes. Returns the length written, or 0 if
 * it did not fit in cap (buf then holds ""). */
size_t omnihost_json_quote(const char *in, char *buf, size_t cap);

#ifdef __cplusplus
}
#endif

#endif /* OMNIHOST_JSON_LITE_H */
