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
 * BAD_ID is the plugin id (the manifest's); BAD_VERSION the version the library reports.
 */
#include <omnihost_plugin.h>

#include <stdio.h>
#include <stdlib.h>

#ifndef BAD_VERSION
#define BAD_VERSION "0.1.0"
#endif

struct omnihost_instance {
    int started;
    const char *error;
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
    (*out)->error = "";
    return OMNIHOST_OK;
#endif
}

static void bp_destroy(omnihost_instance *inst) { free(inst); }

static omnihost_status bp_start(omnihost_instance *inst, const char *start_json, const omnihost_job *job) {
    (void)start_json;
    (void)job;
#ifdef BAD_UNRESOLVED
    if (omnihost_test_symbol_that_does_not_exist()) return OMNIHOST_INTERNAL;
#endif
    inst->started = 1;
    return OMNIHOST_OK;
}

static omnihost_status bp_health(omnihost_instance *inst, const char **out_json) {
    *out_json = inst->started ? "{\"ready\":true,\"failed\":false,\"message\":\"ready\"}"
                              : "{\"ready\":false,\"failed\":false,\"message\":\"not started\"}";
    return OMNIHOST_OK;
}

#ifndef BAD_NULL_MEMBER
static omnihost_status bp_generate(omnihost_instance *inst, const char *request_json, const omnihost_job *job,
                                   omnihost_result **out) {
    (void)request_json;
    (void)job;
    *out = NULL;
    inst->error = "this test plugin generates nothing";
    return OMNIHOST_NOT_SUPPORTED;
}
#endif

static void bp_release_result(omnihost_instance *inst, omnihost_result *result) {
    (void)inst;
    (void)result;
}

static omnihost_status bp_stop(omnihost_instance *inst) {
    inst->started = 0;
    return OMNIHOST_OK;
}

static const char *bp_last_error(omnihost_instance *inst) { return inst->error; }

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
    bp_last_error,
    NULL, /* no command_preview */
};

#ifdef BAD_MISSING_SYMBOL
OMNIHOST_EXPORT const omnihost_plugin_entry *omnihost_plugin_get_entry_misspelt(void) { return &bad_entry; }
#else
OMNIHOST_EXPORT const omnihost_plugin_entry *omnihost_plugin_get_entry(void) { return &bad_entry; }
#endif
