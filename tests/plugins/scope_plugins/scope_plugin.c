/*
 * scope_plugin.c — two builds (SCOPE_NAME a / b) that both EXPORT a helper of the same name,
 * omnihost_scope_probe(), and call it from health(). Loaded in local symbol scope each plugin
 * reaches its own helper; loaded in global scope the second one silently binds to the first
 * one's. This is the mechanism behind the sentencepiece/libtorch protobuf crash (env-notes 2c),
 * made observable: health() reports {"message":"probe=<letter>"}.
 */
#include <omnihost_plugin.h>

#include <stdio.h>
#include <stdlib.h>

/* Exported on purpose (default visibility), like the protobuf symbols libsentencepiece exports. */
OMNIHOST_EXPORT char omnihost_scope_probe(void) { return SCOPE_LETTER; }

struct omnihost_instance {
    int unused;
};

static omnihost_status sp_create(const omnihost_host *host, const char *config_json, omnihost_instance **out,
                                 char *error_buf, size_t error_cap) {
    (void)host; (void)config_json;
    *out = (omnihost_instance *)calloc(1, sizeof(omnihost_instance));
    if (*out) return OMNIHOST_OK;
    if (error_cap) snprintf(error_buf, error_cap, "out of memory");
    return OMNIHOST_OUT_OF_MEMORY;
}
static void sp_destroy(omnihost_instance *inst) { free(inst); }
static omnihost_status sp_start(omnihost_instance *inst, const char *s, const omnihost_job *j, char *error_buf,
                                size_t error_cap) {
    (void)inst; (void)s; (void)j;
    if (error_cap) snprintf(error_buf, error_cap, "scope probe plugin: no model");
    return OMNIHOST_NOT_SUPPORTED;
}
static omnihost_status sp_health(omnihost_instance *inst, char *out, size_t out_cap, size_t *out_len, char *error_buf,
                                 size_t error_cap) {
    (void)inst; (void)error_buf; (void)error_cap;
    *out_len = (size_t)snprintf(out, out_cap, "{\"ready\":false,\"failed\":false,\"message\":\"probe=%c\"}",
                                omnihost_scope_probe());
    return OMNIHOST_OK;
}
static omnihost_status sp_generate(omnihost_instance *inst, const char *r, const omnihost_job *j, omnihost_result **out,
                                   char *error_buf, size_t error_cap) {
    (void)inst; (void)r; (void)j;
    *out = NULL;
    if (error_cap) snprintf(error_buf, error_cap, "scope probe plugin: no model");
    return OMNIHOST_UNAVAILABLE;
}
static void sp_release_result(omnihost_instance *inst, omnihost_result *res) { (void)inst; (void)res; }
static omnihost_status sp_stop(omnihost_instance *inst, char *error_buf, size_t error_cap) {
    (void)inst; (void)error_buf; (void)error_cap;
    return OMNIHOST_OK;
}

static const omnihost_plugin_entry scope_entry = {
    OMNIHOST_ABI_MAJOR, OMNIHOST_ABI_MINOR, (uint32_t)sizeof(omnihost_plugin_entry),
    SCOPE_ID, "0.1.0",
    sp_create, sp_destroy, sp_start, sp_health, sp_generate, sp_release_result, sp_stop,
    NULL, /* command_preview */
    NULL, /* get_extension */
};

OMNIHOST_EXPORT const omnihost_plugin_entry *omnihost_plugin_get_entry(void) { return &scope_entry; }
