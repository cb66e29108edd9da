/* json_lite.c — see json_lite.h for scope and limits. */
#include "json_lite.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static const char *skip_ws(const char *p) {
    while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') ++p;
    return p;
}

static int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

/* Returns the pointer past a string starting at p (p at the opening quote), or NULL. */
static const char *skip_string(const char *p) {
    if (*p != '"') return NULL;
    ++p;
    for (;;) {
        unsigned char c = (unsigned char)*p;
        if (c == '"') return p + 1;
        if (c == 0 || c < 0x20) return NULL; /* unterminated or raw control character */
        if (c == '\\') {
            ++p;
            switch (*p) {
            case '"': case '\\': case '/': case 'b': case 'f': case 'n': case 'r': case 't': ++p; break;
            case 'u': {
                int i;
                for (i = 1; i <= 4; ++i)
                    if (hex_value(p[i]) < 0) return NULL;
                p += 5;
                break;
            }
            default: return NULL;
            }
        } else {
            ++p;
        }
    }
}

static const char *skip_number(const char *p) {
    if (*p == '-') ++p;
    if (*p == '0') {
        ++p;
    } else if (*p >= '1' && *p <= '9') {
        while (*p >= '0' && *p <= '9') ++p;
    } else {
        return NULL;
    }
    if (*p == '.') {
        ++p;
        if (!(*p >= '0' && *p <= '9')) return NULL;
        while (*p >= '0' && *p <= '9') ++p;
    }
    if (*p == 'e' || *p == 'E') {
        ++p;
        if (*p == '+' || *p == '-') ++p;
        if (!(*p >= '0' && *p <= '9')) return NULL;
        while (*p >= '0' && *p <= '9') ++p;
    }
    return p;
}

static const char *skip_value_depth(const char *p, int depth) {
    p = skip_ws(p);
    if (depth > OMNIHOST_JSON_MAX_DEPTH) return NULL;
    switch (*p) {
    case '"': return skip_string(p);
    case 't': return strncmp(p, "true", 4) == 0 ? p + 4 : NULL;
    case 'f': return strncmp(p, "false", 5) == 0 ? p + 5 : NULL;
    case 'n': return strncmp(p, "null", 4) == 0 ? p + 4 : NULL;
    case '{': {
        p = skip_ws(p + 1);
        if (*p == '}') return p + 1;
        for (;;) {
            p = skip_string(skip_ws(p));
            if (!p) return NULL;
            p = skip_ws(p);
            if (*p != ':') return NULL;
            p = skip_value_depth(p + 1, depth + 1);
            if (!p) return NULL;
            p = skip_ws(p);
            if (*p == ',') { ++p; continue; }
            if (*p == '}') return p + 1;
            return NULL;
        }
    }
    case '[': {
        p = skip_ws(p + 1);
        if (*p == ']') return p + 1;
        for (;;) {
            p = skip_value_depth(p, depth + 1);
            if (!p) return NULL;
            p = skip_ws(p);
            if (*p == ',') { ++p; continue; }
            if (*p == ']') return p + 1;
            return NULL;
        }
    }
    default: return skip_number(p);
    }
}

/* Like skip_value_depth, but reports where it failed (the deepest point reached is not tracked;
 * the offset is the start of the value that failed at top level or the trailing garbage). */
int omnihost_json_validate(const char *text, size_t *err_offset) {
    const char *end;
    if (!text) {
        if (err_offset) *err_offset = 0;
        return 0;
    }
    end = skip_value_depth(text, 0);
    if (end) {
        end = skip_ws(end);
        if (*end == 0) return 1;
        if (err_offset) *err_offset = (size_t)(end - text);
        return 0;
    }
    if (err_offset) *err_offset = (size_t)(skip_ws(text) - text);
    return 0;
}

char omnihost_json_type(const char *value) {
    if (!value) return 0;
    value = skip_ws(value);
    switch (*value) {
    case '{': return 'o';
    case '[': return 'a';
    case '"': return 's';
    case 't': return 't';
    case 'f': return 'f';
    case 'n': return 'z';
    default: return (*value == '-' || (*value >= '0' && *value <= '9')) ? 'n' : 0;
    }
}

const char *omnihost_json_find(const char *object, const char *key) {
    const char *p;
    size_t key_len;
    if (!object || !key) return NULL;
    key_len = strlen(key);
    p = skip_ws(object);
    if (*p != '{') return NULL;
    p = skip_ws(p + 1);
    if (*p == '}') return NULL;
    for (;;) {
        const char *key_start = p + 1;
        const char *key_end = skip_string(p);
        int match;
        if (!key_end) return NULL;
        match = (size_t)(key_end - 1 - key_start) == key_len && memcmp(key_start, key, key_len) == 0;
        p = skip_ws(key_end);
        if (*p != ':') return NULL;
        p = skip_ws(p + 1);
        if (match) return p;
        p = skip_value_depth(p, 1);
        if (!p) return NULL;
        p = skip_ws(p);
        if (*p == ',') { p = skip_ws(p + 1); continue; }
        return NULL; /* '}' (not found) or malformed */
    }
}

const char *omnihost_json_index(const char *array, size_t index) {
    const char *p;
    size_t i = 0;
    if (!array) return NULL;
    p = skip_ws(array);
    if (*p != '[') return NULL;
    p = skip_ws(p + 1);
    if (*p == ']') return NULL;
    for (;;) {
        if (i == index) return p;
        p = skip_value_depth(p, 1);
        if (!p) return NULL;
        p = skip_ws(p);
        if (*p != ',') return NULL;
        p = skip_ws(p + 1);
        ++i;
    }
}

int omnihost_json_read_int64(const char *value, int64_t *out) {
    const char *end;
    char *conv_end;
    long long v;
    if (!value) return 0;
    value = skip_ws(value);
    end = skip_number(value);
    if (!end) return 0;
    {
        const char *q;
        for (q = value; q < end; ++q)
            if (*q == '.' || *q == 'e' || *q == 'E') return 0; /* not an integer */
    }
    errno = 0;
    v = strtoll(value, &conv_end, 10);
    if (conv_end != end || errno == ERANGE) return 0;
    if (out) *out = (int64_t)v;
    return 1;
}

int omnihost_json_read_double(const char *value, double *out) {
    const char *end;
    char *conv_end;
    double v;
    if (!value) return 0;
    value = skip_ws(value);
    end = skip_number(value);
    if (!end) return 0;
    v = strtod(value, &conv_end);
    if (conv_end != end) return 0;
    if (out) *out = v;
    return 1;
}

int omnihost_json_read_bool(const char *value, int *out) {
    if (!value) return 0;
    value = skip_ws(value);
    if (strncmp(value, "true", 4) == 0) { if (out) *out = 1; return 1; }
    if (strncmp(value, "false", 5) == 0) { if (out) *out = 0; return 1; }
    return 0;
}

/* Appends one code point as UTF-8; returns 0 when it does not fit. */
static int put_utf8(char *buf, size_t cap, size_t *len, unsigned long cp) {
    char tmp[4];
    size_t n, i;
    if (cp < 0x80) { tmp[0] = (char)cp; n = 1; }
    else if (cp < 0x800) { tmp[0] = (char)(0xC0 | (cp >> 6)); tmp[1] = (char)(0x80 | (cp & 0x3F)); n = 2; }
    else if (cp < 0x10000) {
        tmp[0] = (char)(0xE0 | (cp >> 12)); tmp[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
        tmp[2] = (char)(0x80 | (cp & 0x3F)); n = 3;
    } else {
        tmp[0] = (char)(0xF0 | (cp >> 18)); tmp[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
        tmp[2] = (char)(0x80 | ((cp >> 6) & 0x3F)); tmp[3] = (char)(0x80 | (cp & 0x3F)); n = 4;
    }
    if (*len + n + 1 > cap) return 0;
    for (i = 0; i < n; ++i) buf[(*len)++] = tmp[i];
    return 1;
}

static unsigned long read_hex4(const char *p) {
    return (unsigned long)((hex_value(p[0]) << 12) | (hex_value(p[1]) << 8) | (hex_value(p[2]) << 4) | hex_value(p[3]));
}

int omnihost_json_read_string(const char *value, char *buf, size_t cap) {
    const char *p;
    size_t len = 0;
    if (cap > 0) buf[0] = 0;
    if (!value || cap == 0) return 0;
    p = skip_ws(value);
    if (!skip_string(p)) return 0; /* also validates escapes */
    ++p;
    while (*p != '"') {
        unsigned long cp;
        if (*p != '\\') {
            if (len + 2 > cap) { buf[len] = 0; return 0; }
            buf[len++] = *p++;
            continue;
        }
        ++p;
        switch (*p) {
        case 'b': cp = '\b'; break;
        case 'f': cp = '\f'; break;
        case 'n': cp = '\n'; break;
        case 'r': cp = '\r'; break;
        case 't': cp = '\t'; break;
        case 'u':
            cp = read_hex4(p + 1);
            p += 4;
            if (cp >= 0xD800 && cp <= 0xDBFF && p[1] == '\\' && p[2] == 'u') {
                unsigned long lo = read_hex4(p + 3);
                if (lo >= 0xDC00 && lo <= 0xDFFF) {
                    cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
                    p += 6;
                }
            }
            break;
        default: cp = (unsigned char)*p; break; /* \" \\ \/ */
        }
        ++p;
        if (!put_utf8(buf, cap, &len, cp)) { buf[len] = 0; return 0; }
    }
    buf[len] = 0;
    return 1;
}

int omnihost_json_get_int64(const char *object, const char *key, int64_t *out) {
    return omnihost_json_read_int64(omnihost_json_find(object, key), out);
}

int omnihost_json_get_bool(const char *object, const char *key, int *out) {
    return omnihost_json_read_bool(omnihost_json_find(object, key), out);
}

int omnihost_json_get_string(const char *object, const char *key, char *buf, size_t cap) {
    const char *v = omnihost_json_find(object, key);
    if (!v) {
        if (cap > 0) buf[0] = 0;
        return 0;
    }
    return omnihost_json_read_string(v, buf, cap);
}

size_t omnihost_json_quote(const char *in, char *buf, size_t cap) {
    static const char hex[] = "0123456789abcdef";
    size_t len = 0;
    const unsigned char *p = (const unsigned char *)(in ? in : "");
    if (cap < 3) { if (cap) buf[0] = 0; return 0; }
    buf[len++] = '"';
    for (; *p; ++p) {
        char esc = 0;
        switch (*p) {
        case '"': esc = '"'; break;
        case '\\': esc = '\\'; break;
        case '\n': esc = 'n'; break;
        case '\r': esc = 'r'; break;
        case '\t': esc = 't'; break;
        case '\b': esc = 'b'; break;
        case '\f': esc = 'f'; break;
        default: break;
        }
        if (esc) {
            if (len + 2 + 2 > cap) goto overflow;
            buf[len++] = '\\';
            buf[len++] = esc;
        } else if (*p < 0x20) {
            if (len + 6 + 2 > cap) goto overflow;
            buf[len++] = '\\'; buf[len++] = 'u'; buf[len++] = '0'; buf[len++] = '0';
            buf[len++] = hex[*p >> 4]; buf[len++] = hex[*p & 0xF];
        } else {
            if (len + 1 + 2 > cap) goto overflow;
            buf[len++] = (char)*p;
        }
    }
    buf[len++] = '"';
    buf[len] = 0;
    return len;
overflow:
    buf[0] = 0;
    return 0;
}
