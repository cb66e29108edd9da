/*
 * bad_plugin.c — one deliberately broken plugin per build, for the loader's failure-case tests.
 * Everything works except the defect selected by one BAD_* define (see CMakeLists.txt):
 *   BAD_MISSING_SYMBOL   exports a misspelt entry symbol
 *   BAD_ABI_MAJOR        entry says ABI major 99
 *   BAD_LIBRARY_ID       entry id differs from the manifest id
 *   BAD_CREATE_FAILS     create() always fails with a reason
 *   BAD_NULL_MEMBER      generate is NULL
 *   BAD_SMALL_STRUCT     struct_size too small for ABI 1.0
 *   BAD_UNRESOLVED       references a function no library defines (dlopen RTLD_NOW fails)
 * and, for the ABI's buffer rules (the table is fine, the behaviour is not):
 *   BAD_TEXT_OVERFLOW    health() writes its whole text whatever out_cap says (past the buffer)
 *   BAD_TEXT_LENGTH      health() reports an out_len that is not the text's length
 *   BAD_ERROR_OVERFLOW   a failing generate() writes its reason past error_cap
 *   BAD_NO_REASON        a failing generate() leaves error_buf empty
 *   BAD_CRASH_HEALTH     health() dereferences NULL (the kit must report a crash, not die silently)
 * BAD_ID is the plugin id (the manifest's); BAD_VERSION the version the library reports.
 */
#include <omnihost_plugin.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef BAD_VERSION
#define BAD_VERSION "0.1.0"
#endif

struct omnihost_instance {
    int started;
};

#ifdef BAD_UNRESOLVED
extern int omnihost_test_symbol_that_does_not_exist(void);
#endif

static omnihost_status bp_create(const omnihost_host *host, const char *config_json, omnihost_instance **out,
                                 char *error_buf, size_t error_cap) {
    (void)host;
    (void)config_json;
    *out = NULL;
#ifdef BAD_CREATE_FAILS
    if (error_cap) snprintf(error_buf, error_cap, "this test plugin always fails create()");
    return OMNIHOST_INTERNAL;
#else
    (void)error_buf;
    (void)error_cap;
    *out = (omnihost_instance *)calloc(1, sizeof(omnihost_instance));
    if (!*out) return OMNIHOST_OUT_OF_MEMORY;
    return OMNIHOST_OK;
#endif
}

static void bp_destroy(omnihost_instance *inst) { free(inst); }

static omnihost_status bp_start(omnihost_instance *inst, const char *start_json, const omnihost_job *job,
                                char *error_buf, size_t error_cap) {
    (void)start_json;
    (void)job;
    (void)error_buf;
    (void)error_cap;
#ifdef BAD_UNRESOLVED
    if (omnihost_test_symbol_that_does_not_exist()) return OMNIHOST_INTERNAL;
#endif
    inst->started = 1;
    return OMNIHOST_OK;
}

static omnihost_status bp_health(omnihost_instance *inst, char *out, size_t out_cap, size_t *out_len,
                                 char *error_buf, size_t error_cap) {
    const char *text = inst->started ? "{\"ready\":true,\"failed\":false,\"message\":\"ready\"}"
                                     : "{\"ready\":false,\"failed\":false,\"message\":\"not started\"}";
    (void)error_buf;
    (void)error_cap;
#if defined(BAD_CRASH_HEALTH)
    /* A real crash, without undefined behaviour: a null store would be stopped by UBSan in the
       sanitizer build before it became the SIGSEGV the kit must report. */
    raise(SIGSEGV);
#endif
#if defined(BAD_TEXT_OVERFLOW)
    (void)out_cap;
    if (out) strcpy(out, text); /* ignores out_cap */
#else
    if (out_cap) snprintf(out, out_cap, "%s", text);
#endif
#if defined(BAD_TEXT_LENGTH)
    *out_len = strlen(text) / 2;
#else
    *out_len = strlen(text);
#endif
    return OMNIHOST_OK;
}

#ifndef BAD_NULL_MEMBER
static omnihost_status bp_generate(omnihost_instance *inst, const char *request_json, const omnihost_job *job,
                                   omnihost_result **out, char *error_buf, size_t error_cap) {
    const char *reason = "this test plugin generates nothing";
    (void)inst;
    (void)request_json;
    (void)job;
    *out = NULL;
#if defined(BAD_ERROR_OVERFLOW)
    (void)error_cap;
    if (error_buf) strcpy(error_buf, reason); /* ignores error_cap */
#elif defined(BAD_NO_REASON)
    (void)reason;
    (void)error_buf;
    (void)error_cap;
#else
    if (error_cap) snprintf(error_buf, error_cap, "%s", reason);
#endif
    return OMNIHOST_NOT_SUPPORTED;
}
#endif

static void bp_release_result(omnihost_instance *inst, omnihost_result *result) {
    (void)inst;
    (void)result;
}

static omnihost_status bp_stop(omnihost_instance *inst, char *error_buf, size_t error_cap) {
    (void)error_buf;
    (void)error_cap;
    inst->started = 0;
    return OMNIHOST_OK;
}

static const omnihost_plugin_entry bad_entry = {
#ifdef BAD_ABI_MAJOR
    99,
#else
    OMNIHOST_ABI_MAJOR,
#endif
    OMNIHOST_ABI_MINOR,
#ifdef BAD_SMALL_STRUCT
    20,
#else
    (uint32_t)sizeof(omnihost_plugin_entry),
#endif
#ifdef BAD_LIBRARY_ID
    "some_other_id",
#else
    BAD_ID,
#endif
    BAD_VERSION,
    bp_create,
    bp_destroy,
    bp_start,
    bp_health,
#ifdef BAD_NULL_MEMBER
    NULL,
#else
    bp_generate,
#endif
    bp_release_result,
    bp_stop,
    NULL, /* no command_preview */
    NULL, /* no get_extension */
};

#ifdef BAD_MISSING_SYMBOL
OMNIHOST_EXPORT const omnihost_plugin_entry *omnihost_plugin_get_entry_misspelt(void) { return &bad_entry; }
#else
OMNIHOST_EXPORT const omnihost_plugin_entry *omnihost_plugin_get_entry(void) { return &bad_entry; }
#endif
