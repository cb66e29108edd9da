/* conformance_checks.c — the checks of omnihost-conformance, in the order they run. */
#define _POSIX_C_SOURCE 200809L
#include "conformance.h"
#include "json_lite.h"

#include <dirent.h>
#include <pthread.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The entry as the host sees it (min(struct_size, sizeof) bytes, the rest zero) and whether it is
 * sound enough to call into. */
omnihost_plugin_entry view;
int usable = 0;
char manifest_first_task[32] = "";

/* ---- host and job callbacks ------------------------------------------------------------------- */

void host_log(void *user_data, omnihost_log_level level, const char *source, const char *message) {
    host_state *hs = (host_state *)user_data;
    if (!hs) return;
    hs->lines++;
    if (!source || !message || level < OMNIHOST_LOG_TRACE || level > OMNIHOST_LOG_ERROR) hs->bad_lines++;
    if (hs->verbose) fprintf(stderr, "  [log %d] %s: %s\n", (int)level, source ? source : "(null)", message ? message : "(null)");
}

void job_progress(void *user_data, int32_t step, int32_t total, const char *phase, const char *message) {
    job_state *js = (job_state *)user_data;
    js->progress_calls++;
    if (!phase || step < 0 || total < 0 || (total > 0 && step > total)) js->bad_progress++;
    if (js->verbose)
        fprintf(stderr, "  [progress] %d/%d %s %s\n", (int)step, (int)total, phase ? phase : "(null)", message ? message : "");
}

int32_t job_is_cancelled(void *user_data) { return ((job_state *)user_data)->cancel; }

void job_emit(void *user_data, const char *event_json) {
    job_state *js = (job_state *)user_data;
    js->emits++;
    if (!event_json || !omnihost_json_validate(event_json, NULL) || omnihost_json_type(event_json) != 'o') js->bad_emits++;
}

omnihost_job make_job(job_state *js, const char *id) {
    omnihost_job job;
    memset(&job, 0, sizeof job);
    job.struct_size = sizeof(omnihost_job);
    job.job_id = id;
    job.user_data = js;
    job.progress = job_progress;
    job.is_cancelled = job_is_cancelled;
    job.emit = job_emit;
    return job;
}

omnihost_host make_host(host_state *hs) {
    omnihost_host host;
    memset(&host, 0, sizeof host);
    host.struct_size = sizeof(omnihost_host);
    host.user_data = hs;
    host.log = host_log;
    return host;
}

int is_object(const char *json) {
    return json && omnihost_json_validate(json, NULL) && omnihost_json_type(json) == 'o';
}

/* ---- buffers with guards ------------------------------------------------------------------ */

void err_prepare(err_buf *e, size_t cap) {
    memset(e->text, 'x', sizeof e->text);
    e->cap = cap;
}

int err_respected(const err_buf *e) {
    size_t i;
    for (i = e->cap; i < e->cap + CONFORMANCE_GUARD; ++i)
        if (e->text[i] != 'x') return 0;
    return e->cap == 0 || memchr(e->text, 0, e->cap) != NULL;
}

const char *err_text(const err_buf *e) {
    size_t i;
    if (e->cap == 0) return "";
    if (memchr(e->text, 0, e->cap)) return e->text;
    for (i = 0; i < e->cap; ++i)
        if (e->text[i] != 'x') return "(not NUL-terminated)";
    return "(nothing written)";
}

void call_text(omnihost_instance *inst, const char *preview_json, size_t cap, text_answer *a) {
    size_t i;
    char *out = cap ? a->text : NULL;
    memset(a->text, '#', cap + CONFORMANCE_GUARD);
    a->cap = cap;
    a->len = (size_t)-1;
    err_prepare(&a->err, CONFORMANCE_ERR_CAP);
    if (preview_json)
        a->status = view.command_preview(inst, preview_json, out, cap, &a->len, a->err.text, a->err.cap);
    else
        a->status = view.health(inst, out, cap, &a->len, a->err.text, a->err.cap);
    a->wrote_past_cap = 0;
    for (i = cap; i < cap + CONFORMANCE_GUARD; ++i)
        if (a->text[i] != '#') a->wrote_past_cap = 1;
    a->nul_within_cap = cap > 0 && memchr(a->text, 0, cap) != NULL;
}

int text_complete(const text_answer *a) {
    return a->status == OMNIHOST_OK && !a->wrote_past_cap && a->len < a->cap && a->text[a->len] == 0 &&
           strlen(a->text) == a->len;
}

/* The text-out rule, checked on one call site (health or preview): a full answer, a length-only
 * query with a NULL buffer, and a cut answer in a small buffer, all reporting the same length. */
static void check_text_rule(omnihost_instance *inst, const char *preview_json, const char *what, text_answer *full) {
    static text_answer probe;
    char name[160];
    call_text(inst, preview_json, CONFORMANCE_TEXT_CAP, full);
    snprintf(name, sizeof name, "%s: OK, out_len equals the NUL-terminated text's length", what);
    check_result(text_complete(full), name, "status %d: %s; out_len %lld, text length %lld%s", (int)full->status,
                 err_text(&full->err), full->len == (size_t)-1 ? -1LL : (long long)full->len,
                 full->nul_within_cap ? (long long)strlen(full->text) : -1LL,
                 full->wrote_past_cap ? ", wrote past out_cap" : "");
    if (!text_complete(full)) return;
    snprintf(name, sizeof name, "%s: answer is a JSON object", what);
    check_result(is_object(full->text), name, "%s", full->text);

    call_text(inst, preview_json, 0, &probe);
    snprintf(name, sizeof name, "%s: out_cap 0 (out NULL) reports the length only", what);
    check_result(probe.status == OMNIHOST_OK && probe.len == full->len && !probe.wrote_past_cap, name,
                 "status %d, out_len %lld, expected %lld", (int)probe.status,
                 probe.len == (size_t)-1 ? -1LL : (long long)probe.len, (long long)full->len);

    call_text(inst, preview_json, 8, &probe);
    snprintf(name, sizeof name, "%s: a small out_cap cuts the text snprintf-style", what);
    check_result(probe.status == OMNIHOST_OK && !probe.wrote_past_cap && probe.nul_within_cap &&
                     strlen(probe.text) == 7 && memcmp(probe.text, full->text, 7) == 0 && probe.len == full->len,
                 name, "status %d, %s, out_len %lld (full %lld)", (int)probe.status,
                 probe.wrote_past_cap ? "wrote past out_cap 8" : (probe.nul_within_cap ? "NUL within 8" : "no NUL within 8"),
                 probe.len == (size_t)-1 ? -1LL : (long long)probe.len, (long long)full->len);
}

/* ---- entry ------------------------------------------------------------------------------------ */

/* The manifest beside the library: <dir>/<entry id>.plugin.json, else any <dir>/<name>.plugin.json whose
 * "library" names this file. Writes the first candidate path into `path` (for the message). */
static void find_manifest(const char *plugin_path, char *path, size_t cap) {
    const char *slash = strrchr(plugin_path, '/');
    const char *base = slash ? slash + 1 : plugin_path;
    char dir[2048];
    DIR *d;
    struct dirent *ent;
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - plugin_path) : 1, slash ? plugin_path : ".");
    snprintf(path, cap, "%s/%.200s.plugin.json", dir, view.id);
    if (access(path, R_OK) == 0 || !(d = opendir(dir))) return;
    while ((ent = readdir(d)) != NULL) {
        size_t n = strlen(ent->d_name);
        char candidate[2048 + 260], library[256];
        char *text;
        if (n <= 12 || strcmp(ent->d_name + n - 12, ".plugin.json") != 0) continue;
        snprintf(candidate, sizeof candidate, "%s/%.255s", dir, ent->d_name);
        text = read_text_file(candidate);
        if (text && omnihost_json_get_string(text, "library", library, sizeof library) && strcmp(library, base) == 0) {
            snprintf(path, cap, "%s", candidate);
            free(text);
            break;
        }
        free(text);
    }
    closedir(d);
}

static void check_manifest(const conformance_options *opts) {
    char path[4096], id[128], version[64], library[256];
    const char *base;
    char *text;
    const char *abi;
    int64_t major = -1;
    check_begin("manifest");
    if (opts->manifest_path) {
        snprintf(path, sizeof path, "%s", opts->manifest_path);
    } else {
        find_manifest(opts->plugin_path, path, sizeof path);
    }
    text = read_text_file(path);
    check_note(text != NULL, "manifest found", text ? "%s" : "cannot read %s (pass --manifest)", path);
    if (!text) return;
    check_result(is_object(text), "manifest is a JSON object", "%s", path);
    if (!is_object(text)) {
        free(text);
        return;
    }
    omnihost_json_get_string(text, "id", id, sizeof id);
    omnihost_json_get_string(text, "version", version, sizeof version);
    check_result(strcmp(id, view.id) == 0, "manifest id equals entry id", "manifest '%s', library '%s'", id, view.id);
    check_result(strcmp(version, view.version) == 0, "manifest version equals entry version",
                 "manifest '%s', library '%s'", version, view.version);
    abi = omnihost_json_find(text, "abi");
    omnihost_json_get_int64(abi, "major", &major);
    check_result(major == (int64_t)view.abi_major, "manifest abi.major equals entry abi_major",
                 "manifest %lld, library %u", (long long)major, (unsigned)view.abi_major);
    base = strrchr(opts->plugin_path, '/');
    base = base ? base + 1 : opts->plugin_path;
    library[0] = 0;
    omnihost_json_get_string(text, "library", library, sizeof library);
    check_result(strcmp(library, base) == 0, "manifest library names this file", "manifest '%s', file '%s'", library, base);
    {
        const char *routes = omnihost_json_find(text, "routes");
        check_result(omnihost_json_type(routes) == 'a' && omnihost_json_index(routes, 0) != NULL,
                     "manifest lists at least one route", "");
    }
    omnihost_json_read_string(omnihost_json_index(omnihost_json_find(text, "tasks"), 0), manifest_first_task,
                              sizeof manifest_first_task);
    free(text);
}

void run_entry_checks(const omnihost_plugin_entry *entry, const conformance_options *opts) {
    size_t required = offsetof(omnihost_plugin_entry, stop) + sizeof(view.stop);
    size_t n;
    const char *missing = NULL;
    if (!entry) {
        return; /* already reported by main */
    }
    check_begin("entry");
    check_note(entry->abi_major == OMNIHOST_ABI_MAJOR, "abi_major matches the host",
                 "plugin %u.%u, host %d.%d", (unsigned)entry->abi_major, (unsigned)entry->abi_minor, OMNIHOST_ABI_MAJOR,
                 OMNIHOST_ABI_MINOR);
    check_note(entry->struct_size >= required, "struct_size covers the 1.0 members", "struct_size %u, needs >= %zu",
                 (unsigned)entry->struct_size, required);
    if (entry->abi_major != OMNIHOST_ABI_MAJOR || entry->struct_size < required) return;
    n = entry->struct_size < sizeof view ? entry->struct_size : sizeof view;
    memcpy(&view, entry, n); /* members past n stay zero: the optional ones read as absent */

    if (!view.id || !*view.id) missing = "id";
    else if (!view.version || !*view.version) missing = "version";
    else if (!view.create) missing = "create";
    else if (!view.destroy) missing = "destroy";
    else if (!view.start) missing = "start";
    else if (!view.health) missing = "health";
    else if (!view.generate) missing = "generate";
    else if (!view.release_result) missing = "release_result";
    else if (!view.stop) missing = "stop";
    check_result(missing == NULL, "required members are non-NULL", missing ? "'%s' is NULL or empty" : "", missing);
    if (missing) return;
    usable = 1;
    if (view.get_extension) {
        check_begin("get_extension(NULL, unknown id)");
        check_result(view.get_extension(NULL, "omnihost.conformance_no_such_extension.v1") == NULL,
                     "get_extension answers NULL for an unknown id", "");
    }
    check_manifest(opts);
}

/* ---- instance without a model ----------------------------------------------------------------- */

void run_instance_checks(const omnihost_plugin_entry *entry, const conformance_options *opts) {
    host_state hs = {0, 0, 0};
    omnihost_host host;
    omnihost_instance *inst = NULL;
    static text_answer answer;
    err_buf err;
    omnihost_status st;
    (void)entry;
    if (!usable) {
        check_result(0, "instance checks", "skipped: the entry table is unusable");
        return;
    }
    hs.verbose = opts->verbose;
    host = make_host(&hs);

    check_begin("create with invalid JSON");
    inst = (omnihost_instance *)&hs; /* must be reset to NULL by a failing create */
    err_prepare(&err, 8);
    st = view.create(&host, "{not json", &inst, err.text, err.cap);
    check_result(st != OMNIHOST_OK && inst == NULL, "create with invalid config JSON fails cleanly",
                 "status %d, out %s", (int)st, inst ? "non-NULL" : "NULL");
    check_result(st == OMNIHOST_OK || err_respected(&err), "create respects error_cap",
                 "the reason must be NUL-terminated within error_cap (8) and nothing written beyond");
    if (st == OMNIHOST_OK && inst && inst != (omnihost_instance *)&hs) view.destroy(inst);
    inst = NULL;
    st = view.create(&host, "[1,2]", &inst, NULL, 0);
    check_result(st != OMNIHOST_OK && inst == NULL, "create with a non-object config and error_cap 0 fails cleanly",
                 "status %d", (int)st);
    if (st == OMNIHOST_OK && inst) view.destroy(inst);

    check_begin("create");
    inst = NULL;
    err_prepare(&err, CONFORMANCE_ERR_CAP);
    st = view.create(&host, "{}", &inst, err.text, err.cap);
    check_result(st == OMNIHOST_OK && inst != NULL, "create(\"{}\") succeeds", "status %d: %s", (int)st, err_text(&err));
    if (st != OMNIHOST_OK || !inst) return;

    check_begin("health before start");
    check_text_rule(inst, NULL, "health before start", &answer);
    if (text_complete(&answer) && is_object(answer.text)) {
        int ready = 1, failed = 1;
        check_result(omnihost_json_get_bool(answer.text, "ready", &ready) && !ready,
                     "health before start: ready is false", "%s", answer.text);
        check_result(omnihost_json_get_bool(answer.text, "failed", &failed), "health has a boolean 'failed'", "%s",
                     answer.text);
    }

    check_begin("generate before start");
    {
        job_state js;
        omnihost_job job;
        omnihost_result *res = (omnihost_result *)&hs;
        char req[96];
        memset(&js, 0, sizeof js);
        job = make_job(&js, "conformance-before-start");
        snprintf(req, sizeof req, "{\"task\":\"%s\",\"prompt\":\"x\"}", manifest_first_task[0] ? manifest_first_task : "video");
        err_prepare(&err, CONFORMANCE_ERR_CAP);
        st = view.generate(inst, req, &job, &res, err.text, err.cap);
        check_result(st == OMNIHOST_UNAVAILABLE, "generate before start returns UNAVAILABLE", "status %d", (int)st);
        check_result(res == NULL, "generate before start sets *out to NULL", "");
        if (st == OMNIHOST_OK && res && res != (omnihost_result *)&hs) view.release_result(inst, res);
        check_result(st != OMNIHOST_OK && err_respected(&err) && *err_text(&err) != 0,
                     "a failing call explains itself in error_buf", "reason \"%s\"", err_text(&err));

        check_begin("generate before start, error_cap 8");
        res = NULL;
        err_prepare(&err, 8);
        st = view.generate(inst, req, &job, &res, err.text, err.cap);
        check_result(st != OMNIHOST_OK && err_respected(&err), "a failing call respects error_cap",
                     "status %d; the reason must be NUL-terminated within error_cap (8), nothing beyond", (int)st);
        if (st == OMNIHOST_OK && res) view.release_result(inst, res);

        check_begin("generate before start, error_cap 0");
        res = NULL;
        st = view.generate(inst, req, &job, &res, NULL, 0);
        check_result(st == OMNIHOST_UNAVAILABLE, "a failing call with error_buf NULL, error_cap 0", "status %d", (int)st);
        if (st == OMNIHOST_OK && res) view.release_result(inst, res);
    }

    check_begin("release_result(NULL)");
    view.release_result(inst, NULL);
    check_result(1, "release_result(NULL) is a no-op", "");

    check_begin("stop before start");
    err_prepare(&err, CONFORMANCE_ERR_CAP);
    st = view.stop(inst, err.text, err.cap);
    check_result(st == OMNIHOST_OK, "stop before start returns OK", "status %d: %s", (int)st, err_text(&err));
    st = view.stop(inst, NULL, 0);
    check_result(st == OMNIHOST_OK, "stop is idempotent", "status %d", (int)st);

    check_begin("command_preview");
    if (view.command_preview) {
        char kind[32] = "";
        check_text_rule(inst, opts->start_json ? opts->start_json : "{}", "command_preview", &answer);
        if (text_complete(&answer) && is_object(answer.text)) {
            omnihost_json_get_string(answer.text, "kind", kind, sizeof kind);
            check_result(strcmp(kind, "subprocess") == 0 || strcmp(kind, "container") == 0 ||
                             strcmp(kind, "inprocess") == 0 || strcmp(kind, "remote") == 0,
                         "command_preview kind is subprocess|container|inprocess|remote", "kind '%s'", kind);
            check_result(omnihost_json_type(omnihost_json_find(answer.text, "argv")) == 'a',
                         "command_preview has an argv array", "");
        }
    } else {
        check_note(1, "command_preview absent", "optional member");
    }

    if (view.get_extension) {
        check_begin("get_extension(inst, unknown id)");
        check_result(view.get_extension(inst, "omnihost.conformance_no_such_extension.v1") == NULL,
                     "get_extension on an instance answers NULL for an unknown id", "");
    }

    check_begin("destroy");
    view.destroy(inst);
    check_result(1, "destroy returns", "");
    check_result(hs.bad_lines == 0, "log callback arguments are valid", "%d bad of %d lines", hs.bad_lines, hs.lines);
}
