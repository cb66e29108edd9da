/*
 * dropin_plugin.c: the smallest complete omnihost plugin, as a third party would write it. Plain
 * C99 + POSIX threads, only the ABI header, no omnihost helper. It serves image requests with a
 * 1x1 PNG and puts the request it received into the result's metadata ({"request": ...}), so a test
 * can see which validated, defaulted values the host handed over. plugin_api/README.md shows this
 * file verbatim (a test keeps the two equal).
 */
#include <omnihost_plugin.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct node { /* one result handed to the host and not yet released */
    omnihost_result result; /* first member: the host's pointer is the node's address */
    char *metadata;
    struct node *next;
} node;

struct omnihost_instance {
    pthread_mutex_t mu; /* health and release_result are [any-thread]: guard what they touch */
    int started;
    node *results;
};

static const uint8_t k_png[] = { /* a 1x1 grey PNG */
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52,
    0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x00, 0x00, 0x00, 0x00, 0x3a, 0x7e, 0x9b,
    0x55, 0x00, 0x00, 0x00, 0x0a, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x68, 0x00, 0x00, 0x00,
    0x82, 0x00, 0x81, 0x77, 0xcd, 0x72, 0xb6, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae,
    0x42, 0x60, 0x82};

/* Every failure writes its reason into the caller's buffer, snprintf-style. */
static omnihost_status fail(char *error_buf, size_t error_cap, omnihost_status status, const char *reason) {
    if (error_cap) snprintf(error_buf, error_cap, "%s", reason);
    return status;
}

/* The host hands over validated JSON; this only rejects what is plainly not an object. */
static int looks_like_object(const char *json) {
    size_t n = json ? strlen(json) : 0;
    while (n && (json[n - 1] == ' ' || json[n - 1] == '\n')) --n;
    return n >= 2 && json[0] == '{' && json[n - 1] == '}';
}

static omnihost_status dp_create(const omnihost_host *host, const char *config_json, omnihost_instance **out,
                                 char *error_buf, size_t error_cap) {
    (void)host;
    *out = NULL;
    if (!looks_like_object(config_json))
        return fail(error_buf, error_cap, OMNIHOST_INVALID_ARGUMENT, "config: must be a JSON object");
    *out = (omnihost_instance *)calloc(1, sizeof(omnihost_instance));
    if (!*out) return fail(error_buf, error_cap, OMNIHOST_OUT_OF_MEMORY, "out of memory");
    pthread_mutex_init(&(*out)->mu, NULL);
    return OMNIHOST_OK;
}

static void dp_release(omnihost_instance *inst, omnihost_result *result) {
    node **link, *found = NULL;
    if (!inst || !result) return;
    pthread_mutex_lock(&inst->mu);
    for (link = &inst->results; *link; link = &(*link)->next) {
        if (&(*link)->result == result) {
            found = *link;
            *link = found->next;
            break;
        }
    }
    pthread_mutex_unlock(&inst->mu);
    if (found) free(found->metadata);
    free(found);
}

static void dp_destroy(omnihost_instance *inst) {
    if (!inst) return;
    while (inst->results) dp_release(inst, &inst->results->result);
    pthread_mutex_destroy(&inst->mu);
    free(inst);
}

static omnihost_status dp_start(omnihost_instance *inst, const char *start_json, const omnihost_job *job,
                                char *error_buf, size_t error_cap) {
    (void)job;
    if (!looks_like_object(start_json))
        return fail(error_buf, error_cap, OMNIHOST_INVALID_ARGUMENT, "start: must be a JSON object");
    pthread_mutex_lock(&inst->mu);
    inst->started = 1;
    pthread_mutex_unlock(&inst->mu);
    return OMNIHOST_OK;
}

static omnihost_status dp_health(omnihost_instance *inst, char *out, size_t out_cap, size_t *out_len,
                                 char *error_buf, size_t error_cap) {
    int started, n;
    pthread_mutex_lock(&inst->mu);
    started = inst->started;
    pthread_mutex_unlock(&inst->mu);
    n = snprintf(out, out_cap, "{\"ready\":%s,\"failed\":false,\"message\":\"%s\"}", started ? "true" : "false",
                 started ? "drop-in ready" : "not started");
    if (n < 0) return fail(error_buf, error_cap, OMNIHOST_INTERNAL, "snprintf failed");
    *out_len = (size_t)n; /* the full length, even when out_cap cut it */
    return OMNIHOST_OK;
}

static omnihost_status dp_generate(omnihost_instance *inst, const char *request_json, const omnihost_job *job,
                                   omnihost_result **out, char *error_buf, size_t error_cap) {
    node *n;
    size_t size;
    int started;
    *out = NULL;
    pthread_mutex_lock(&inst->mu);
    started = inst->started;
    pthread_mutex_unlock(&inst->mu);
    if (!started) return fail(error_buf, error_cap, OMNIHOST_UNAVAILABLE, "not started");
    if (!looks_like_object(request_json))
        return fail(error_buf, error_cap, OMNIHOST_INVALID_ARGUMENT, "request: must be a JSON object");
    if (job && job->is_cancelled && job->is_cancelled(job->user_data))
        return fail(error_buf, error_cap, OMNIHOST_CANCELLED, "cancelled");
    if (job && job->progress) job->progress(job->user_data, 1, 1, "export", NULL);

    n = (node *)calloc(1, sizeof(node));
    size = strlen(request_json) + 16;
    if (n) n->metadata = (char *)malloc(size);
    if (!n || !n->metadata) {
        free(n);
        return fail(error_buf, error_cap, OMNIHOST_OUT_OF_MEMORY, "out of memory");
    }
    snprintf(n->metadata, size, "{\"request\":%s}", request_json);
    n->result.struct_size = sizeof(omnihost_result);
    n->result.data = k_png;
    n->result.size = sizeof k_png;
    n->result.mime_type = "image/png";
    n->result.metadata_json = n->metadata;
    pthread_mutex_lock(&inst->mu);
    n->next = inst->results;
    inst->results = n;
    pthread_mutex_unlock(&inst->mu);
    *out = &n->result;
    return OMNIHOST_OK;
}

static omnihost_status dp_stop(omnihost_instance *inst, char *error_buf, size_t error_cap) {
    (void)error_buf;
    (void)error_cap;
    pthread_mutex_lock(&inst->mu);
    inst->started = 0;
    pthread_mutex_unlock(&inst->mu);
    return OMNIHOST_OK;
}

static const omnihost_plugin_entry k_entry = {
    OMNIHOST_ABI_MAJOR, OMNIHOST_ABI_MINOR, sizeof(omnihost_plugin_entry),
    "dropin_plugin", "1.0.0", /* equal to the manifest's id and version */
    dp_create, dp_destroy, dp_start, dp_health, dp_generate, dp_release, dp_stop,
    NULL, /* command_preview: optional */
    NULL, /* get_extension: optional */
};

OMNIHOST_EXPORT const omnihost_plugin_entry *omnihost_plugin_get_entry(void) { return &k_entry; }
