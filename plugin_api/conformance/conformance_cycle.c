/* conformance_cycle.c — one full start / generate / cancel / stop cycle (only with --start-json). */
#define _POSIX_C_SOURCE 200809L
#include "conformance.h"
#include "json_lite.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct poller {
    omnihost_instance *inst;
    const char *preview_json; /* NULL: the plugin has no command_preview */
    volatile int stop;
    int calls;
    int bad; /* a non-OK or inconsistent answer while generate ran */
} poller;

/* health() and command_preview() are [any-thread]: called from a second thread while generate()
 * runs, each into this thread's own buffer, never sharing a string with the worker. */
static void *poll_health(void *arg) {
    poller *p = (poller *)arg;
    text_answer *a = (text_answer *)malloc(sizeof *a);
    if (!a) {
        p->bad++;
        p->calls = 100;
        return NULL;
    }
    while (!p->stop || p->calls < 100) { /* at least 100 calls even if generate() is quick */
        call_text(p->inst, NULL, CONFORMANCE_TEXT_CAP, a);
        if (!text_complete(a) || !is_object(a->text)) p->bad++;
        if (p->preview_json) {
            call_text(p->inst, p->preview_json, CONFORMANCE_TEXT_CAP, a);
            if (!text_complete(a) || !is_object(a->text)) p->bad++;
        }
        p->calls++;
    }
    free(a);
    return NULL;
}

/* health() into a fresh buffer; "ready" read from it, or -1 when the answer is broken. */
static int health_ready(omnihost_instance *inst, text_answer *a) {
    int ready = 0;
    call_text(inst, NULL, CONFORMANCE_TEXT_CAP, a);
    if (!text_complete(a) || !omnihost_json_get_bool(a->text, "ready", &ready)) return -1;
    return ready;
}

static void check_result_struct(omnihost_result *res, const char *what) {
    char name[128];
    snprintf(name, sizeof name, "%s: result is well-formed", what);
    if (!res) {
        check_result(0, name, "NULL result with OK status");
        return;
    }
    check_note(OMNIHOST_HAS_MEMBER(res, metadata_json) && res->mime_type && *res->mime_type && is_object(res->metadata_json) &&
                     (res->size == 0 || res->data != NULL),
                 name, "struct_size %u, mime %s, metadata %s, size %llu, data %s", (unsigned)res->struct_size,
                 res->mime_type ? res->mime_type : "(NULL)", res->metadata_json ? res->metadata_json : "(NULL)",
                 (unsigned long long)res->size, res->data ? "set" : "NULL");
}

void run_cycle_checks(const omnihost_plugin_entry *entry, const conformance_options *opts) {
    host_state hs;
    omnihost_host host;
    omnihost_instance *inst = NULL;
    omnihost_status st;
    job_state js;
    omnihost_job job;
    omnihost_result *res = NULL, *kept = NULL;
    char default_request[96];
    const char *request;
    static text_answer health;
    err_buf err;
    (void)entry;
    if (!opts->start_json) {
        printf("#    (no --start-json: the start/generate/stop cycle was not run)\n");
        return;
    }
    if (!usable) {
        check_result(0, "cycle checks", "skipped: the entry table is unusable");
        return;
    }
    snprintf(default_request, sizeof default_request, "{\"task\":\"%s\",\"prompt\":\"conformance\"}",
             manifest_first_task[0] ? manifest_first_task : "video");
    request = opts->generate_json ? opts->generate_json : default_request;
    check_result(is_object(opts->start_json), "--start-json is a JSON object", "");
    check_result(is_object(request), "--generate-json is a JSON object", "");

    memset(&hs, 0, sizeof hs);
    hs.verbose = opts->verbose;
    host = make_host(&hs);
    check_begin("cycle: create");
    st = view.create(&host, "{}", &inst, NULL, 0);
    if (st != OMNIHOST_OK || !inst) {
        check_result(0, "cycle: create", "status %d", (int)st);
        return;
    }

    check_begin("cycle: start");
    memset(&js, 0, sizeof js);
    js.verbose = opts->verbose;
    job = make_job(&js, "conformance-start");
    err_prepare(&err, CONFORMANCE_ERR_CAP);
    st = view.start(inst, opts->start_json, &job, err.text, err.cap);
    check_result(st == OMNIHOST_OK, "start succeeds", "status %d: %s", (int)st, err_text(&err));
    if (st != OMNIHOST_OK) {
        view.destroy(inst);
        return;
    }
    check_result(js.bad_progress == 0, "start progress reports are sane", "%d bad of %d", js.bad_progress, js.progress_calls);
    check_result(health_ready(inst, &health) == 1, "health after start: ready is true", "status %d: %s",
                 (int)health.status, health.nul_within_cap ? health.text : err_text(&health.err));

    check_begin("cycle: generate");
    memset(&js, 0, sizeof js);
    js.verbose = opts->verbose;
    job = make_job(&js, "conformance-generate");
    res = NULL;
    err_prepare(&err, CONFORMANCE_ERR_CAP);
    st = view.generate(inst, request, &job, &res, err.text, err.cap);
    check_result(st == OMNIHOST_OK, "generate succeeds", "status %d: %s", (int)st, err_text(&err));
    if (st == OMNIHOST_OK) {
        check_result_struct(res, "generate");
        check_result(js.bad_progress == 0, "generate progress reports are sane", "%d bad of %d", js.bad_progress,
                     js.progress_calls);
        check_result(js.bad_emits == 0, "emitted events are JSON objects", "%d bad of %d", js.bad_emits, js.emits);
        if (opts->verbose && res)
            fprintf(stderr, "  result: %llu bytes of %s, metadata %s\n", (unsigned long long)res->size,
                    res->mime_type ? res->mime_type : "(NULL)", res->metadata_json ? res->metadata_json : "(NULL)");
        if (res) view.release_result(inst, res);
    }

    check_begin("cycle: generate with invalid JSON");
    res = NULL;
    err_prepare(&err, CONFORMANCE_ERR_CAP);
    st = view.generate(inst, "{\"task\": oops", &job, &res, err.text, err.cap);
    check_result(st == OMNIHOST_INVALID_ARGUMENT && res == NULL, "generate with invalid request JSON returns INVALID_ARGUMENT",
                 "status %d", (int)st);
    check_result(st != OMNIHOST_OK && err_respected(&err) && *err_text(&err) != 0,
                 "INVALID_ARGUMENT comes with a reason in error_buf", "reason \"%s\"", err_text(&err));
    if (st == OMNIHOST_OK && res) view.release_result(inst, res);

    check_begin("cycle: cancelled generate");
    memset(&js, 0, sizeof js);
    js.cancel = 1; /* cancelled before it starts: the first poll must stop it */
    job = make_job(&js, "conformance-cancel");
    res = NULL;
    st = view.generate(inst, request, &job, &res, NULL, 0);
    check_result(st == OMNIHOST_CANCELLED, "generate with is_cancelled() != 0 returns CANCELLED", "status %d", (int)st);
    if (st == OMNIHOST_OK && res) view.release_result(inst, res);

    check_begin("cycle: health during generate");
    {
        poller p;
        pthread_t thread;
        memset(&p, 0, sizeof p);
        p.inst = inst;
        p.preview_json = view.command_preview ? opts->start_json : NULL;
        memset(&js, 0, sizeof js);
        job = make_job(&js, "conformance-concurrent");
        pthread_create(&thread, NULL, poll_health, &p);
        while (p.calls == 0) sched_yield(); /* make sure the poller is running */
        st = view.generate(inst, request, &job, &kept, NULL, 0);
        p.stop = 1;
        pthread_join(thread, NULL);
        check_result(st == OMNIHOST_OK && p.bad == 0, "health/command_preview from another thread during generate",
                     "status %d, %d bad answers in %d rounds", (int)st, p.bad, p.calls);
        /* `kept` is deliberately not released: destroy() must release it. */
    }

    check_begin("cycle: stop");
    err_prepare(&err, CONFORMANCE_ERR_CAP);
    st = view.stop(inst, err.text, err.cap);
    check_result(st == OMNIHOST_OK, "stop after start returns OK", "status %d: %s", (int)st, err_text(&err));
    st = view.stop(inst, NULL, 0);
    check_result(st == OMNIHOST_OK, "second stop returns OK", "status %d", (int)st);
    check_result(health_ready(inst, &health) == 0, "health after stop: ready is false", "status %d: %s",
                 (int)health.status, health.nul_within_cap ? health.text : err_text(&health.err));
    res = NULL;
    memset(&js, 0, sizeof js);
    job = make_job(&js, "conformance-after-stop");
    st = view.generate(inst, request, &job, &res, NULL, 0);
    check_result(st == OMNIHOST_UNAVAILABLE, "generate after stop returns UNAVAILABLE", "status %d", (int)st);
    if (st == OMNIHOST_OK && res) view.release_result(inst, res);

    check_begin("cycle: destroy with an unreleased result");
    view.destroy(inst);
    check_result(1, "destroy releases results not given back", "");
    check_result(hs.bad_lines == 0, "cycle: log callback arguments are valid", "%d bad of %d lines", hs.bad_lines,
                 hs.lines);
}
