/* conformance.h — internal to the omnihost-conformance tool. */
#ifndef OMNIHOST_CONFORMANCE_H
#define OMNIHOST_CONFORMANCE_H

#include <omnihost_plugin.h>

#include <stddef.h>

typedef struct conformance_options {
    const char *plugin_path;
    const char *manifest_path;  /* NULL: look for <dir>/<id>.plugin.json beside the library */
    const char *start_json;     /* NULL: skip the start/generate/stop cycle */
    const char *generate_json;  /* NULL with start_json: {"task":<first task of the manifest>} */
    int verbose;
} conformance_options;

/* Records one check: prints "ok   - name" or "FAIL - name: <details>" and counts it. */
void check_result(int passed, const char *name, const char *fmt, ...);
/* Same, but prints the details on success too: "ok   - name (<details>)". */
void check_note(int passed, const char *name, const char *fmt, ...);
/* Names the check running now, so a crash or timeout can say where it happened. */
void check_begin(const char *name);

/* The checks. `entry` is NULL when the entry symbol was missing (the remaining checks are then
 * reported as failed without calling anything). Returns nothing; results go through check_result. */
void run_entry_checks(const omnihost_plugin_entry *entry, const conformance_options *opts);
void run_instance_checks(const omnihost_plugin_entry *entry, const conformance_options *opts);
void run_cycle_checks(const omnihost_plugin_entry *entry, const conformance_options *opts);

/* Shared between the check files: the entry as the host sees it (min(struct_size, sizeof) bytes,
 * the rest zero), whether it is sound enough to call, and the manifest's first task. */
extern omnihost_plugin_entry view;
extern int usable;
extern char manifest_first_task[32];

typedef struct host_state {
    int lines;
    int bad_lines; /* NULL source/message or a level outside TRACE..ERROR */
    int verbose;
} host_state;

typedef struct job_state {
    volatile int cancel;
    int progress_calls;
    int bad_progress; /* NULL phase, negative step, step > total when total > 0 */
    int emits;
    int bad_emits;    /* not a JSON object */
    int verbose;
} job_state;

omnihost_host make_host(host_state *hs);
omnihost_job make_job(job_state *js, const char *id);
int is_object(const char *json);

/* Buffers with guard bytes behind their declared capacity, to catch a plugin writing past it. */
#define CONFORMANCE_GUARD 16
#define CONFORMANCE_ERR_CAP 512
#define CONFORMANCE_TEXT_CAP 65536

/* An error buffer for one call: reason (the plugin's text), cap as passed, guard bytes after it. */
typedef struct err_buf {
    size_t cap;
    char text[CONFORMANCE_ERR_CAP + CONFORMANCE_GUARD];
} err_buf;
/* Fills the buffer with a marker and sets the capacity the call will be given (<= ERR_CAP). */
void err_prepare(err_buf *e, size_t cap);
/* The error-buffer rule held: NUL-terminated within cap (when cap > 0), nothing written past it. */
int err_respected(const err_buf *e);
/* The reason as text; "(nothing written)" or "(not NUL-terminated)" when the plugin broke the rule. */
const char *err_text(const err_buf *e);

/* One health() or command_preview() call through the text-out rule, into a buffer of `cap` bytes
 * (NULL when cap is 0) with guard bytes behind it. */
typedef struct text_answer {
    omnihost_status status;
    size_t cap;
    size_t len;             /* *out_len as the plugin set it; (size_t)-1 if untouched */
    int wrote_past_cap;     /* a guard byte behind cap changed */
    int nul_within_cap;     /* cap > 0 and a NUL lies inside it */
    err_buf err;
    char text[CONFORMANCE_TEXT_CAP + CONFORMANCE_GUARD];
} text_answer;
/* `preview_json` NULL calls health(), else command_preview(preview_json). */
void call_text(omnihost_instance *inst, const char *preview_json, size_t cap, text_answer *a);
/* The answer is complete and consistent: OK, fits, NUL at len, nothing past cap. */
int text_complete(const text_answer *a);

/* Reads a whole file into a malloc'ed NUL-terminated buffer, or NULL. */
char *read_text_file(const char *path);

#endif
