/*
 * test_plugin.c — a complete omnihost plugin in plain C99, for tests and the demo recipe.
 *
 * It implements every member of the ABI with honest behaviour and no model: start "loads" by
 * sleeping, generate produces small deterministic media (WAV / PNG / Y4M, see test_media.h) or
 * a streamed chat reply. Tests steer it with "test_*" knobs in the JSON it receives:
 *   start JSON:    test_load_ms (int, total load time), test_load_steps (int, progress steps, phase
 *                  "load"), test_fail_start ("reason" -> INTERNAL), test_fail_after_ms (int: health
 *                  turns {"failed":true} that long after start), test_stop_hang_ms (int: the next
 *                  stop() blocks that long, as an unload stuck in a driver would), test_health_hang_ms
 *                  (int: the first health() after start logs "health hangs" and blocks that long)
 *   request JSON:  test_steps (int, progress steps, phase "denoise"), test_step_ms (int per step),
 *                  test_fail ("reason" -> INTERNAL), test_oom (true -> OUT_OF_MEMORY),
 *                  test_ignore_cancel (true: the steps never look at the cancel flag, so a cancelled
 *                  job still runs to the end and succeeds), test_hang_ms (int: generate reports one
 *                  progress event, phase "hang", then blocks that long without looking at anything,
 *                  as a call stuck in a kernel would)
 * health() reports "cancels_seen": how many loads/generations noticed their cancel and returned
 * CANCELLED, so a test can tell a cancel that reached the plugin from one that did not. The start
 * knob test_health_pad (int) adds a "pad" string of that many characters to health, so a caller's
 * retry with a bigger buffer (the ABI's text-out rule) is exercised.
 * Start JSON needs "model_type" (video, audio, image, tts, omni); container mode is refused for
 * video/audio as the in-process plugins do. The request's "task" must be the model_type's task
 * (omni -> chat). JSON is read with json_lite (limits in json_lite.h).
 *
 * Threads: start/generate/stop/destroy come from the host worker ([worker]); health,
 * command_preview and release_result from any thread ([any-thread]). `mu` guards everything
 * health() reads and the result list. Reasons for failures go into each call's own error buffer,
 * so nothing here is per-thread.
 */
#define _POSIX_C_SOURCE 200809L
#include "test_media.h"

#include <json_lite.h>
#include <omnihost_plugin.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define TEST_PLUGIN_ID "test_plugin"
#define TEST_PLUGIN_VERSION "0.1.0"
#define CONTAINER_REFUSAL "video and audio models run in-process; container mode is not available for them"

typedef struct result_node {
    omnihost_result result; /* first: the host's pointer is the node's address */
    struct result_node *next;
    uint8_t *data;
    char *metadata;
} result_node;

struct omnihost_instance {
    const omnihost_host *host;
    pthread_mutex_t mu;
    int started;
    char model[256];
    char model_type[16];
    int64_t fail_after_ms; /* <0: never */
    struct timespec started_at;
    int64_t health_pad; /* test_health_pad */
    result_node *results; /* not yet released */
    uint64_t generations;
    uint64_t cancels_seen;
    int64_t stop_hang_ms; /* the next stop() blocks this long */
    int64_t health_hang_ms; /* the next health() blocks this long */
};

/* ---- helpers ---------------------------------------------------------------------------------- */

static int64_t ms_since(const struct timespec *t0) {
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    return (int64_t)(now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

static void sleep_ms(int64_t ms) {
    struct timespec ts;
    if (ms <= 0) return;
    ts.tv_sec = (time_t)(ms / 1000);
    ts.tv_nsec = (long)((ms % 1000) * 1000000);
    while (nanosleep(&ts, &ts) != 0) {
    }
}

/* Where a failing call writes its reason: the caller's error_buf/error_cap. */
typedef struct errout {
    char *buf;
    size_t cap;
} errout;

static omnihost_status fail(errout eo, omnihost_status st, const char *message) {
    if (eo.buf && eo.cap) snprintf(eo.buf, eo.cap, "%s", message);
    return st;
}

static void log_line(omnihost_instance *inst, omnihost_log_level level, const char *message) {
    inst->host->log(inst->host->user_data, level, TEST_PLUGIN_ID, message);
}

static int cancelled(const omnihost_job *job) {
    return job && job->is_cancelled && job->is_cancelled(job->user_data);
}

static void progress(const omnihost_job *job, int32_t step, int32_t total, const char *phase, const char *msg) {
    if (job && job->progress) job->progress(job->user_data, step, total, phase, msg);
}

/* Sleeps `total_ms` over `steps` progress steps, polling cancellation every 10 ms unless told to
 * ignore it. Returns 0 when it stopped for a cancel. */
static int run_steps(const omnihost_job *job, int64_t steps, int64_t step_ms, const char *phase, int ignore_cancel) {
    int64_t s;
    for (s = 1; s <= steps; ++s) {
        int64_t left = step_ms;
        char msg[64];
        while (left > 0) {
            if (!ignore_cancel && cancelled(job)) return 0;
            sleep_ms(left < 10 ? left : 10);
            left -= 10;
        }
        if (!ignore_cancel && cancelled(job)) return 0;
        snprintf(msg, sizeof msg, "%s step %lld/%lld", phase, (long long)s, (long long)steps);
        progress(job, (int32_t)s, (int32_t)steps, phase, msg);
    }
    return ignore_cancel || !cancelled(job);
}

static omnihost_status cancel_seen(omnihost_instance *inst, errout eo, const char *message) {
    pthread_mutex_lock(&inst->mu);
    inst->cancels_seen++;
    pthread_mutex_unlock(&inst->mu);
    return fail(eo, OMNIHOST_CANCELLED, message);
}

static int64_t get_int(const char *json, const char *key, int64_t fallback, int64_t lo, int64_t hi) {
    int64_t v;
    if (!omnihost_json_get_int64(json, key, &v)) {
        double d;
        if (!omnihost_json_read_double(omnihost_json_find(json, key), &d)) return fallback;
        v = (int64_t)d;
    }
    return v < lo ? lo : (v > hi ? hi : v);
}

static double get_double(const char *json, const char *key, double fallback, double lo, double hi) {
    double v;
    if (!omnihost_json_read_double(omnihost_json_find(json, key), &v)) return fallback;
    return v < lo ? lo : (v > hi ? hi : v);
}

static int is_json_object(const char *text) {
    return text && omnihost_json_validate(text, NULL) && omnihost_json_type(text) == 'o';
}

static uint64_t hash_str(const char *s) { /* FNV-1a: a stable seed from the prompt */
    uint64_t h = 1469598103934665603ull;
    for (; s && *s; ++s) h = (h ^ (uint8_t)*s) * 1099511628211ull;
    return h;
}

/* ---- the ABI ---------------------------------------------------------------------------------- */

static omnihost_status tp_create(const omnihost_host *host, const char *config_json, omnihost_instance **out,
                                 char *error_buf, size_t error_cap) {
    omnihost_instance *inst;
    if (out) *out = NULL;
    if (!host || !host->log || !out) {
        if (error_cap) snprintf(error_buf, error_cap, "create: host table, host->log and out must be non-NULL");
        return OMNIHOST_INVALID_ARGUMENT;
    }
    if (!is_json_object(config_json)) {
        if (error_cap) snprintf(error_buf, error_cap, "create: config_json is not a JSON object");
        return OMNIHOST_INVALID_ARGUMENT;
    }
    inst = (omnihost_instance *)calloc(1, sizeof *inst);
    if (!inst) {
        if (error_cap) snprintf(error_buf, error_cap, "create: out of memory");
        return OMNIHOST_OUT_OF_MEMORY;
    }
    inst->host = host;
    pthread_mutex_init(&inst->mu, NULL);
    inst->fail_after_ms = -1;
    *out = inst;
    return OMNIHOST_OK;
}

static omnihost_status tp_stop(omnihost_instance *inst, char *error_buf, size_t error_cap);

static void tp_release_result(omnihost_instance *inst, omnihost_result *result) {
    result_node **link;
    if (!inst || !result) return;
    pthread_mutex_lock(&inst->mu);
    for (link = &inst->results; *link; link = &(*link)->next) {
        if (&(*link)->result == result) {
            result_node *node = *link;
            *link = node->next;
            free(node->data);
            free(node->metadata);
            free(node);
            break;
        }
    }
    pthread_mutex_unlock(&inst->mu);
}

static void tp_destroy(omnihost_instance *inst) {
    if (!inst) return;
    tp_stop(inst, NULL, 0);
    while (inst->results) tp_release_result(inst, &inst->results->result);
    pthread_mutex_destroy(&inst->mu);
    free(inst);
}

static const char *task_for_model_type(const char *model_type) {
    if (strcmp(model_type, "omni") == 0) return "chat";
    if (strcmp(model_type, "video") == 0 || strcmp(model_type, "audio") == 0 || strcmp(model_type, "image") == 0 ||
        strcmp(model_type, "tts") == 0)
        return model_type;
    return NULL;
}

static omnihost_status tp_start(omnihost_instance *inst, const char *start_json, const omnihost_job *job,
                                char *error_buf, size_t error_cap) {
    char model_type[16], run_mode[32], model[256], reason[256], line[400];
    int64_t load_ms, steps;
    errout eo;
    eo.buf = error_buf;
    eo.cap = error_cap;
    if (!inst) return fail(eo, OMNIHOST_INVALID_ARGUMENT, "inst must not be NULL");
    if (!is_json_object(start_json)) return fail(eo, OMNIHOST_INVALID_ARGUMENT, "start_json is not a JSON object");
    if (!omnihost_json_get_string(start_json, "model_type", model_type, sizeof model_type) ||
        !task_for_model_type(model_type))
        return fail(eo, OMNIHOST_INVALID_ARGUMENT,
                    "field 'model_type' must be one of video, audio, image, tts, omni");
    if (omnihost_json_get_string(start_json, "run_mode", run_mode, sizeof run_mode) &&
        strcmp(run_mode, "container") == 0 &&
        (strcmp(model_type, "video") == 0 || strcmp(model_type, "audio") == 0))
        return fail(eo, OMNIHOST_NOT_SUPPORTED, CONTAINER_REFUSAL);
    if (!omnihost_json_get_string(start_json, "model", model, sizeof model)) snprintf(model, sizeof model, "test-model");

    tp_stop(inst, NULL, 0); /* a second start reloads */
    snprintf(line, sizeof line, "loading %s (model_type %s)", model, model_type);
    log_line(inst, OMNIHOST_LOG_INFO, line);

    load_ms = get_int(start_json, "test_load_ms", 0, 0, 600000);
    steps = get_int(start_json, "test_load_steps", load_ms > 0 ? 4 : 1, 1, 10000);
    if (!run_steps(job, steps, load_ms / steps, "load", 0)) {
        log_line(inst, OMNIHOST_LOG_WARN, "load cancelled");
        return cancel_seen(inst, eo, "load cancelled");
    }
    if (omnihost_json_get_string(start_json, "test_fail_start", reason, sizeof reason)) {
        log_line(inst, OMNIHOST_LOG_ERROR, reason);
        return fail(eo, OMNIHOST_INTERNAL, reason);
    }

    pthread_mutex_lock(&inst->mu);
    snprintf(inst->model, sizeof inst->model, "%s", model);
    snprintf(inst->model_type, sizeof inst->model_type, "%s", model_type);
    inst->fail_after_ms = get_int(start_json, "test_fail_after_ms", -1, -1, INT64_MAX / 2);
    inst->stop_hang_ms = get_int(start_json, "test_stop_hang_ms", 0, 0, 600000);
    inst->health_hang_ms = get_int(start_json, "test_health_hang_ms", 0, 0, 600000);
    inst->health_pad = get_int(start_json, "test_health_pad", 0, 0, 1 << 20);
    clock_gettime(CLOCK_MONOTONIC, &inst->started_at);
    inst->started = 1;
    pthread_mutex_unlock(&inst->mu);
    log_line(inst, OMNIHOST_LOG_INFO, "ready");
    return OMNIHOST_OK;
}

/* Health goes straight into the caller's buffer (snprintf reports the full length), so two threads
 * asking at once never share a string. */
static omnihost_status tp_health(omnihost_instance *inst, char *out, size_t out_cap, size_t *out_len, char *error_buf,
                                 size_t error_cap) {
    char model_q[300], *pad;
    int ready, failed, n;
    int64_t pad_len, hang_ms;
    errout eo;
    eo.buf = error_buf;
    eo.cap = error_cap;
    if (!inst || !out_len) return fail(eo, OMNIHOST_INVALID_ARGUMENT, "inst and out_len must not be NULL");
    pthread_mutex_lock(&inst->mu);
    hang_ms = inst->started ? inst->health_hang_ms : 0;
    if (hang_ms > 0) inst->health_hang_ms = 0; /* once */
    pthread_mutex_unlock(&inst->mu);
    if (hang_ms > 0) {
        /* The log line lets a test wait for the call to be stuck rather than guess. */
        log_line(inst, OMNIHOST_LOG_INFO, "test_health_hang_ms: health hangs");
        sleep_ms(hang_ms);
    }
    pthread_mutex_lock(&inst->mu);
    failed = inst->started && inst->fail_after_ms >= 0 && ms_since(&inst->started_at) >= inst->fail_after_ms;
    ready = inst->started && !failed;
    pad_len = inst->started ? inst->health_pad : 0;
    omnihost_json_quote(inst->model, model_q, sizeof model_q);
    pad = (char *)malloc((size_t)pad_len + 1);
    if (!pad) {
        pthread_mutex_unlock(&inst->mu);
        return fail(eo, OMNIHOST_OUT_OF_MEMORY, "out of memory");
    }
    memset(pad, 'p', (size_t)pad_len);
    pad[pad_len] = 0;
    n = snprintf(out, out_cap,
                 "{\"ready\":%s,\"failed\":%s,\"message\":\"%s\",\"model\":%s,\"generations\":%llu,"
                 "\"cancels_seen\":%llu,\"pad\":\"%s\"}",
                 ready ? "true" : "false", failed ? "true" : "false",
                 failed ? "test_fail_after_ms: the backend died" : (ready ? "ready" : "not started"),
                 inst->started ? model_q : "null", (unsigned long long)inst->generations,
                 (unsigned long long)inst->cancels_seen, pad);
    pthread_mutex_unlock(&inst->mu);
    free(pad);
    if (n < 0) return fail(eo, OMNIHOST_INTERNAL, "snprintf failed");
    *out_len = (size_t)n;
    return OMNIHOST_OK;
}

/* Adds a finished result to the instance's list and hands it out. Takes ownership of data/meta. */
static omnihost_status publish_result(omnihost_instance *inst, errout eo, uint8_t *data, size_t size,
                                      const char *mime, char *metadata, omnihost_result **out) {
    result_node *node = (result_node *)calloc(1, sizeof *node);
    if (!node || !metadata || (size > 0 && !data)) {
        free(node);
        free(data);
        free(metadata);
        return fail(eo, OMNIHOST_OUT_OF_MEMORY, "out of memory while building the result");
    }
    node->data = data;
    node->metadata = metadata;
    node->result.struct_size = sizeof(omnihost_result);
    node->result.data = data;
    node->result.size = size;
    node->result.mime_type = mime; /* static string */
    node->result.metadata_json = metadata;
    pthread_mutex_lock(&inst->mu);
    node->next = inst->results;
    inst->results = node;
    inst->generations++;
    pthread_mutex_unlock(&inst->mu);
    *out = &node->result;
    return OMNIHOST_OK;
}

/* The text a chat request asks about: the last message's "content", else "prompt". */
static void chat_input(const char *request, char *buf, size_t cap) {
    const char *messages = omnihost_json_find(request, "messages");
    size_t i = 0;
    const char *last = NULL, *m;
    buf[0] = 0;
    while ((m = omnihost_json_index(messages, i++)) != NULL) last = m;
    if (last && omnihost_json_get_string(last, "content", buf, cap)) return;
    omnihost_json_get_string(request, "prompt", buf, cap);
}

static omnihost_status generate_chat(omnihost_instance *inst, errout eo, const char *request, const omnihost_job *job,
                                     int64_t step_ms, omnihost_result **out) {
    char input[1024], reply[1200], word[256], event[600], quoted[560];
    char *meta;
    size_t len, start = 0, words = 0, i;
    chat_input(request, input, sizeof input);
    snprintf(reply, sizeof reply, "test_plugin heard: %s", input[0] ? input : "(nothing)");
    len = strlen(reply);
    for (i = 0; i < len; ++i) words += reply[i] == ' ';
    words += 1;
    /* Stream word by word, as a real chat backend streams tokens. */
    for (i = 0; i <= len; ++i) {
        if (i < len && reply[i] != ' ') continue;
        if (cancelled(job)) return cancel_seen(inst, eo, "generation cancelled");
        snprintf(word, sizeof word, "%.*s%s", (int)(i - start), reply + start, i < len ? " " : "");
        omnihost_json_quote(word, quoted, sizeof quoted);
        snprintf(event, sizeof event, "{\"text\":%s}", quoted);
        if (job && job->emit) job->emit(job->user_data, event);
        sleep_ms(step_ms);
        start = i + 1;
    }
    progress(job, (int32_t)words, (int32_t)words, "upstream", "reply complete");
    meta = (char *)malloc(1400);
    if (meta) {
        omnihost_json_quote(reply, quoted, sizeof quoted);
        snprintf(meta, 1400, "{\"task\":\"chat\",\"plugin\":\"%s\",\"text\":%s,\"chunks\":%zu}", TEST_PLUGIN_ID,
                 quoted, words);
    }
    {
        uint8_t *data = (uint8_t *)malloc(len ? len : 1);
        if (data) memcpy(data, reply, len);
        return publish_result(inst, eo, data, len, "text/plain; charset=utf-8", meta, out);
    }
}

static omnihost_status tp_generate(omnihost_instance *inst, const char *request_json, const omnihost_job *job,
                                   omnihost_result **out, char *error_buf, size_t error_cap) {
    char task[32], expected[32], model_type[16], reason[256], prompt[512], prompt_q[1100], model_q[300], msg[128];
    int started, failed, oom = 0, ignore_cancel = 0;
    int64_t steps, step_ms, hang_ms;
    uint64_t seed;
    uint8_t *data = NULL;
    size_t size = 0;
    char *meta;
    const char *mime;
    errout eo;
    eo.buf = error_buf;
    eo.cap = error_cap;
    if (out) *out = NULL;
    if (!inst || !out) return fail(eo, OMNIHOST_INVALID_ARGUMENT, "inst and out must not be NULL");
    pthread_mutex_lock(&inst->mu);
    started = inst->started;
    failed = started && inst->fail_after_ms >= 0 && ms_since(&inst->started_at) >= inst->fail_after_ms;
    snprintf(expected, sizeof expected, "%s", started ? task_for_model_type(inst->model_type) : "");
    snprintf(model_type, sizeof model_type, "%s", inst->model_type);
    omnihost_json_quote(inst->model, model_q, sizeof model_q);
    pthread_mutex_unlock(&inst->mu);
    if (!started) return fail(eo, OMNIHOST_UNAVAILABLE, "not started: call start() first");
    if (failed) return fail(eo, OMNIHOST_UNAVAILABLE, "the backend died (test_fail_after_ms)");
    if (!is_json_object(request_json)) return fail(eo, OMNIHOST_INVALID_ARGUMENT, "request_json is not a JSON object");
    if (!omnihost_json_get_string(request_json, "task", task, sizeof task))
        return fail(eo, OMNIHOST_INVALID_ARGUMENT, "field 'task' is required (a string)");
    if (strcmp(task, expected) != 0) {
        snprintf(reason, sizeof reason, "model_type %s cannot run task '%s' (it runs '%s')", model_type, task,
                 expected);
        return fail(eo, OMNIHOST_NOT_SUPPORTED, reason);
    }
    if (omnihost_json_get_bool(request_json, "test_oom", &oom) && oom)
        return fail(eo, OMNIHOST_OUT_OF_MEMORY, "simulated out of memory (test_oom)");
    if (omnihost_json_get_string(request_json, "test_fail", reason, sizeof reason))
        return fail(eo, OMNIHOST_INTERNAL, reason);

    hang_ms = get_int(request_json, "test_hang_ms", 0, 0, 600000);
    if (hang_ms > 0) {
        /* One progress event first, so a test knows the call is inside the plugin; then stuck: no
         * progress, no cancel polling, no logging (the host may have given up on us meanwhile). */
        progress(job, 0, 1, "hang", "test_hang_ms");
        sleep_ms(hang_ms);
    }
    omnihost_json_get_bool(request_json, "test_ignore_cancel", &ignore_cancel);

    step_ms = get_int(request_json, "test_step_ms", 0, 0, 600000);
    if (strcmp(task, "chat") == 0) return generate_chat(inst, eo, request_json, job, step_ms, out);

    steps = get_int(request_json, "test_steps", get_int(request_json, "num_inference_steps", 2, 1, 1000), 1, 100000);
    if (!run_steps(job, steps, step_ms, "denoise", ignore_cancel)) return cancel_seen(inst, eo, "generation cancelled");
    progress(job, 0, 1, "export", "encoding");

    if (!omnihost_json_get_string(request_json, "prompt", prompt, sizeof prompt))
        omnihost_json_get_string(request_json, "text", prompt, sizeof prompt); /* tts */
    omnihost_json_quote(prompt, prompt_q, sizeof prompt_q);
    seed = (uint64_t)get_int(request_json, "seed", (int64_t)(hash_str(prompt) >> 1), 0, INT64_MAX);
    meta = (char *)malloc(2048);
    if (!meta) return fail(eo, OMNIHOST_OUT_OF_MEMORY, "out of memory");

    if (strcmp(task, "image") == 0) {
        uint32_t w = (uint32_t)get_int(request_json, "width", 16, 1, 256);
        uint32_t h = (uint32_t)get_int(request_json, "height", 16, 1, 256);
        data = test_media_png(w, h, seed, &size);
        mime = "image/png";
        snprintf(meta, 2048, "{\"task\":\"image\",\"plugin\":\"%s\",\"model\":%s,\"prompt\":%s,\"seed\":%llu,"
                 "\"width\":%u,\"height\":%u,\"steps\":%lld}",
                 TEST_PLUGIN_ID, model_q, prompt_q, (unsigned long long)seed, w, h, (long long)steps);
    } else if (strcmp(task, "video") == 0) {
        uint32_t w = (uint32_t)get_int(request_json, "width", 32, 2, 256) & ~1u;
        uint32_t h = (uint32_t)get_int(request_json, "height", 32, 2, 256) & ~1u;
        uint32_t fps = (uint32_t)get_int(request_json, "fps", 8, 1, 60);
        double duration = get_double(request_json, "duration", 1.0, 0.05, 10.0);
        uint32_t frames = (uint32_t)get_int(request_json, "num_frames", (int64_t)(duration * fps + 0.5), 1, 240);
        data = test_media_y4m(w, h, frames, fps, seed, &size);
        mime = "video/x-yuv4mpeg"; /* raw YUV4MPEG2, NOT MP4: real video bytes, but browsers will not play them */
        snprintf(meta, 2048, "{\"task\":\"video\",\"plugin\":\"%s\",\"model\":%s,\"prompt\":%s,\"seed\":%llu,"
                 "\"width\":%u,\"height\":%u,\"frames\":%u,\"fps\":%u,\"duration\":%.3f,\"format\":\"yuv4mpeg2\","
                 "\"steps\":%lld}",
                 TEST_PLUGIN_ID, model_q, prompt_q, (unsigned long long)seed, w, h, frames, fps,
                 (double)frames / fps, (long long)steps);
    } else { /* audio, tts */
        const uint32_t rate = 16000;
        double duration = get_double(request_json, "duration", strcmp(task, "tts") == 0 ? 0.05 * (strlen(prompt) + 1) : 0.5,
                                     0.01, 10.0);
        uint32_t samples = (uint32_t)(duration * rate);
        data = test_media_wav(rate, samples, seed, &size);
        mime = "audio/wav";
        snprintf(meta, 2048, "{\"task\":\"%s\",\"plugin\":\"%s\",\"model\":%s,\"prompt\":%s,\"seed\":%llu,"
                 "\"sample_rate\":%u,\"channels\":1,\"duration\":%.3f,\"steps\":%lld}",
                 task, TEST_PLUGIN_ID, model_q, prompt_q, (unsigned long long)seed, rate, (double)samples / rate,
                 (long long)steps);
    }
    progress(job, 1, 1, "export", "done");
    snprintf(msg, sizeof msg, "generated %zu bytes of %s", size, mime);
    log_line(inst, OMNIHOST_LOG_INFO, msg);
    return publish_result(inst, eo, data, size, mime, meta, out);
}

static omnihost_status tp_stop(omnihost_instance *inst, char *error_buf, size_t error_cap) {
    int was_started;
    int64_t hang_ms;
    errout eo;
    eo.buf = error_buf;
    eo.cap = error_cap;
    if (!inst) return fail(eo, OMNIHOST_INVALID_ARGUMENT, "inst must not be NULL");
    pthread_mutex_lock(&inst->mu);
    hang_ms = inst->stop_hang_ms;
    inst->stop_hang_ms = 0; /* once: destroy's own stop does not hang again */
    pthread_mutex_unlock(&inst->mu);
    sleep_ms(hang_ms);
    pthread_mutex_lock(&inst->mu);
    was_started = inst->started;
    inst->started = 0;
    inst->fail_after_ms = -1;
    inst->model[0] = 0;
    inst->model_type[0] = 0;
    pthread_mutex_unlock(&inst->mu);
    if (was_started) log_line(inst, OMNIHOST_LOG_INFO, "unloaded");
    return OMNIHOST_OK;
}

static omnihost_status tp_command_preview(omnihost_instance *inst, const char *start_json, char *out, size_t out_cap,
                                          size_t *out_len, char *error_buf, size_t error_cap) {
    char model[256] = "test-model", model_type[16] = "", model_q[300], type_q[40], command[300], command_q[640];
    int n;
    errout eo;
    eo.buf = error_buf;
    eo.cap = error_cap;
    if (!inst || !out_len) return fail(eo, OMNIHOST_INVALID_ARGUMENT, "inst and out_len must not be NULL");
    if (!is_json_object(start_json)) return fail(eo, OMNIHOST_INVALID_ARGUMENT, "start_json is not a JSON object");
    omnihost_json_get_string(start_json, "model", model, sizeof model);
    omnihost_json_get_string(start_json, "model_type", model_type, sizeof model_type);
    omnihost_json_quote(model, model_q, sizeof model_q);
    omnihost_json_quote(model_type, type_q, sizeof type_q);
    snprintf(command, sizeof command, "(in-process) test_plugin load %s", model);
    omnihost_json_quote(command, command_q, sizeof command_q);
    /* Secrets are never echoed: a present hf_token shows as "***". */
    n = snprintf(out, out_cap,
                 "{\"kind\":\"inprocess\",\"argv\":[],\"env\":{%s},\"command\":%s,"
                 "\"settings\":{\"model\":%s,\"model_type\":%s,\"test_load_ms\":%lld}}",
                 omnihost_json_find(start_json, "hf_token") ? "\"HF_TOKEN\":\"***\"" : "", command_q, model_q, type_q,
                 (long long)get_int(start_json, "test_load_ms", 0, 0, 600000));
    if (n < 0) return fail(eo, OMNIHOST_INTERNAL, "snprintf failed");
    *out_len = (size_t)n;
    return OMNIHOST_OK;
}

/* No extensions yet; the member is here so the table shows where they would come from. */
static const void *tp_get_extension(const omnihost_instance *inst, const char *extension_id) {
    (void)inst;
    (void)extension_id;
    return NULL;
}

static const omnihost_plugin_entry test_plugin_entry = {
    OMNIHOST_ABI_MAJOR,
    OMNIHOST_ABI_MINOR,
    (uint32_t)sizeof(omnihost_plugin_entry),
    TEST_PLUGIN_ID,
    TEST_PLUGIN_VERSION,
    tp_create,
    tp_destroy,
    tp_start,
    tp_health,
    tp_generate,
    tp_release_result,
    tp_stop,
    tp_command_preview,
    tp_get_extension,
};

/* The one exported symbol (OMNIHOST_PLUGIN_ENTRY_SYMBOL). */
OMNIHOST_EXPORT const omnihost_plugin_entry *omnihost_plugin_get_entry(void) { return &test_plugin_entry; }
