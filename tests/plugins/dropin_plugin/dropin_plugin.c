/*
 * dropin_plugin.c — the smallest plugin a third party could write: plain C99, only the ABI header,
 * no omnihost helper library or CMake function. It serves image requests with a 1x1 PNG and puts
 * the request it received into the result's metadata ({"request": ...}), so a test can see which
 * validated, defaulted values the host handed over (its manifest declares "sharpness_knob").
 */
#include <omnihost_plugin.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

struct omnihost_instance {
    int started;
    char error[256];
    omnihost_result result;
    char *metadata;
};

/* A 1x1 grey PNG. */
static const uint8_t k_png[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x7e, 0x9b,
    0x55, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x68, 0x00, 0x00, 0x00,
    0x82, 0x00, 0x81, 0x77, 0xcd, 0x72, 0xb6, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82};

static omnihost_status dp_create(const omnihost_host *host, const char *config_json, omnihost_instance **out,
                                 char *error_buf, size_t error_cap) {
    (void)host;
    (void)config_json;
    *out = calloc(1, sizeof(omnihost_instance));
    if (!*out) {
        if (error_cap) snprintf(error_buf, error_cap, "out of memory");
        return OMNIHOST_OUT_OF_MEMORY;
    }
    return OMNIHOST_OK;
}

static void dp_destroy(omnihost_instance *inst) {
    if (!inst) return;
    free(inst->metadata);
    free(inst);
}

static omnihost_status dp_start(omnihost_instance *inst, const char *start_json, const omnihost_job *job) {
    (void)start_json;
    (void)job;
    inst->started = 1;
    return OMNIHOST_OK;
}

static omnihost_status dp_health(omnihost_instance *inst, const char **out_json) {
    *out_json = inst->started ? "{\"ready\":true,\"failed\":false,\"message\":\"drop-in ready\"}"
                              : "{\"ready\":false,\"failed\":false,\"message\":\"not started\"}";
    return OMNIHOST_OK;
}

static omnihost_status dp_generate(omnihost_instance *inst, const char *request_json, const omnihost_job *job,
                                   omnihost_result **out) {
    (void)job;
    *out = NULL;
    if (!inst->started) {
        snprintf(inst->error, sizeof inst->error, "not started");
        return OMNIHOST_UNAVAILABLE;
    }
    if (inst->metadata) return OMNIHOST_INTERNAL; /* one result at a time; the host releases it */
    const size_t size = strlen(request_json) + 16;
    inst->metadata = malloc(size);
    if (!inst->metadata) return OMNIHOST_OUT_OF_MEMORY;
    snprintf(inst->metadata, size, "{\"request\":%s}", request_json);
    inst->result.struct_size = sizeof(omnihost_result);
    inst->result.data = k_png;
    inst->result.size = sizeof k_png;
    inst->result.mime_type = "image/png";
    inst->result.metadata_json = inst->metadata;
    *out = &inst->result;
    return OMNIHOST_OK;
}

static void dp_release(omnihost_instance *inst, omnihost_result *result) {
    if (!inst || result != &inst->result) return;
    free(inst->metadata);
    inst->metadata = NULL;
}

static omnihost_status dp_stop(omnihost_instance *inst) {
    inst->started = 0;
    return OMNIHOST_OK;
}

static const char *dp_last_error(omnihost_instance *inst) { return inst ? inst->error : ""; }

static const omnihost_plugin_entry k_entry = {
    OMNIHOST_ABI_MAJOR, OMNIHOST_ABI_MINOR, sizeof(omnihost_plugin_entry), "dropin_plugin", "1.0.0",
    dp_create, dp_destroy, dp_start, dp_health, dp_generate, dp_release, dp_stop, dp_last_error, NULL};

OMNIHOST_EXPORT const omnihost_plugin_entry *omnihost_plugin_get_entry(void) { return &k_entry; }
