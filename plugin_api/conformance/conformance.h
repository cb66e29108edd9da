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
const char *safe_last_error(omnihost_instance *inst);

/* Reads a whole file into a malloc'ed NUL-terminated buffer, or NULL. */
char *read_text_file(const char *path);

#endif
