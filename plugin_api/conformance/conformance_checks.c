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

const char *safe_last_error(omnihost_instance *inst) {
    const char *e = view.last_error(inst);
    return e ? e : "(NULL)";
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
    size_t required = offsetof(omnihost_plugin_entry, last_error) + sizeof(view.last_error);
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
    memcpy(&view, entry, n);
    if (n < offsetof(omnihost_plugin_entry, command_preview) + sizeof(void *)) view.command_preview = NULL;

    if (!view.id || !*view.id) missing = "id";
    else if (!view.version || !*view.version) missing = "version";
    else if (!view.create) missing = "create";
    else if (!view.destroy) missing = "destroy";
    else if (!view.start) missing = "start";
    else if (!view.health) missing = "health";
    else if (!view.generate) missing = "generate";
    else if (!view.release_result) missing = "release_result";
    else if (!view.stop) missing = "stop";
    else if (!view.last_error) missing = "last_error";
    check_result(missing == NULL, "required members are non-NULL", missing ? "'%s' is NULL or empty" : "", missing);
    if (missing) return;
    usable = 1;
    check_manifest(opts);
}

/* ---- instance without a model ----------------------------------------------------------------- */

void run_instance_checks(const omnihost_plugin_entry *entry, const conformance_options *opts) {
    host_state hs = {0, 0, 0};
    omnihost_host host;
    omnihost_instance *inst = NULL;
    char err[256];
    char small_err[16];
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
    memset(small_err, 'x', sizeof small_err);
    st = view.create(&host, "{not json", &inst, small_err, 8);
    check_result(st != OMNIHOST_OK && inst == NULL, "create with invalid config JSON fails cleanly",
                 "status %d, out %s", (int)st, inst ? "non-NULL" : "NULL");
    check_result(memchr(small_err, 0, 8) != NULL && small_err[8] == 'x', "create respects error_cap",
                 "the error text must be NUL-terminated within error_cap (8) and write nothing beyond");
    if (st == OMNIHOST_OK && inst && inst != (omnihost_instance *)&hs) view.destroy(inst);
    inst = NULL;
    st = view.create(&host, "[1,2]", &inst, NULL, 0);
    check_result(st != OMNIHOST_OK && inst == NULL, "create with a non-object config and error_cap 0 fails cleanly",
                 "status %d", (int)st);
    if (st == OMNIHOST_OK && inst) view.destroy(inst);

    check_begin("create");
    inst = NULL;
    err[0] = 0;
    st = view.create(&host, "{}", &inst, err, sizeof err);
    check_result(st == OMNIHOST_OK && inst != NULL, "create(\"{}\") succeeds", "status %d: %s", (int)st, err);
    if (st != OMNIHOST_OK || !inst) return;

    check_begin("last_error after create");
    check_result(view.last_error(inst) != NULL, "last_error is never NULL", "");

    check_begin("health before start");
    {
        const char *json = NULL;
        int ready = 1, failed = 1;
        st = view.health(inst, &json);
        check_result(st == OMNIHOST_OK && is_object(json), "health before start returns a JSON object",
                     "status %d, json %s", (int)st, json ? json : "(NULL)");
        if (st == OMNIHOST_OK && is_object(json)) {
            check_result(omnihost_json_get_bool(json, "ready", &ready) && !ready, "health before start: ready is false",
                         "%s", json);
            check_result(omnihost_json_get_bool(json, "failed", &failed), "health has a boolean 'failed'", "%s", json);
        }
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
        st = view.generate(inst, req, &job, &res);
        check_result(st == OMNIHOST_UNAVAILABLE, "generate before start returns UNAVAILABLE", "status %d", (int)st);
        check_result(res == NULL || res == (omnihost_result *)&hs, "generate before start gives no result", "");
        if (st == OMNIHOST_OK && res && res != (omnihost_result *)&hs) view.release_result(inst, res);
        check_result(view.last_error(inst) != NULL && *view.last_error(inst) != 0,
                     "last_error explains a failure", "last_error is %s", view.last_error(inst) ? "\"\"" : "NULL");
    }

    check_begin("release_result(NULL)");
    view.release_result(inst, NULL);
    check_result(1, "release_result(NULL) is a no-op", "");

    check_begin("stop before start");
    st = view.stop(inst);
    check_result(st == OMNIHOST_OK, "stop before start returns OK", "status %d: %s", (int)st, safe_last_error(inst));
    st = view.stop(inst);
    check_result(st == OMNIHOST_OK, "stop is idempotent", "status %d", (int)st);

    check_begin("command_preview");
    if (view.command_preview) {
        const char *json = NULL;
        char kind[32] = "";
        st = view.command_preview(inst, opts->start_json ? opts->start_json : "{}", &json);
        check_result(st == OMNIHOST_OK && is_object(json), "command_preview returns a JSON object",
                     "status %d: %s", (int)st, json ? json : safe_last_error(inst));
        if (st == OMNIHOST_OK && is_object(json)) {
            omnihost_json_get_string(json, "kind", kind, sizeof kind);
            check_result(strcmp(kind, "subprocess") == 0 || strcmp(kind, "container") == 0 ||
                             strcmp(kind, "inprocess") == 0 || strcmp(kind, "remote") == 0,
                         "command_preview kind is subprocess|container|inprocess|remote", "kind '%s'", kind);
            check_result(omnihost_json_type(omnihost_json_find(json, "argv")) == 'a',
                         "command_preview has an argv array", "");
        }
    } else {
        check_note(1, "command_preview absent", "optional member");
    }

    check_begin("destroy");
    view.destroy(inst);
    check_result(1, "destroy returns", "");
    check_result(hs.bad_lines == 0, "log callback arguments are valid", "%d bad of %d lines", hs.bad_lines, hs.lines);
}
