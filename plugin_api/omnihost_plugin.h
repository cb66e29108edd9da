/*
 * omnihost_plugin.h — the stable C ABI between the omnihost host and its backend plugins, 1.0.
 *
 * C99, compiles unchanged as C++. Nothing here depends on anything but the C standard library.
 *
 * Shape of the contract:
 *   - A plugin is a shared library exporting ONE symbol, OMNIHOST_PLUGIN_ENTRY_SYMBOL, a function
 *     returning a pointer to a const omnihost_plugin_entry that lives as long as the library is
 *     loaded.
 *   - Every struct carries its size as compiled by the side that filled it (struct_size; in the
 *     entry table it follows abi_major and abi_minor). A reader uses a member only when it lies
 *     inside struct_size (OMNIHOST_HAS_MEMBER); members the other side did not declare count as
 *     NULL / zero. Tables grow only by appending, under a comment naming the minor version.
 *   - The host refuses an entry whose abi_major differs from its OMNIHOST_ABI_MAJOR and accepts
 *     any abi_minor. Whole new features come through get_extension() (plugin and host), so the
 *     tables themselves rarely need to grow.
 *   - Configs, requests, health and result metadata cross the boundary as UTF-8 JSON objects.
 *   - Binary results (MP4, WAV, PNG, ...) cross as pointer + length + MIME type, owned by the plugin
 *     until the host hands them back with release_result().
 *   - No C++ exception, longjmp or abort may cross the boundary: a C++ plugin catches everything
 *     at the edge (omnihost_plugin.hpp has a guard for that).
 *   - There are no global callbacks: every callback comes with the user_data pointer to pass back.
 *
 * Thread markers. Every function member below carries exactly one:
 *   [main]        the thread that loads and unloads the library. Only the entry function.
 *   [worker]      a host worker thread, never an HTTP thread; the call may block as long as its
 *                 work takes. On one instance the host never runs two [worker] calls at once.
 *   [any-thread]  any host thread, at any time between create() returning and destroy() being
 *                 called (a call without an instance: while the library is loaded), concurrently
 *                 with a [worker] call and with other [any-thread] calls on the same instance. It
 *                 must not block for long (answer from cached state) and may rely on no lock held
 *                 by the host.
 * Calls on different instances may run at the same time; state shared between instances must be
 * thread-safe. Callbacks the host hands in (log, job) are marked the same way, seen from the
 * plugin: [any-thread] means any thread, including threads the plugin created.
 *
 * Errors, one way for every call. Every fallible call returns an omnihost_status and takes
 * (char *error_buf, size_t error_cap) as its last two parameters. On a non-OK status the plugin
 * writes a NUL-terminated UTF-8 reason there, truncated like snprintf to error_cap bytes including
 * the NUL; error_cap may be 0 (then error_buf may be NULL and nothing is written). The host reads
 * the buffer only after a non-OK status. There is no per-instance "last error": a reason belongs to
 * the call that failed, so concurrent calls cannot overwrite each other's.
 *
 * Text out, one way for every call. A call that hands back text (health, command_preview) writes it
 * into a caller buffer (char *out, size_t out_cap, size_t *out_len) exactly like snprintf: at most
 * out_cap bytes including a terminating NUL, and *out_len = the full length of the text, NUL not
 * counted. *out_len >= out_cap means the text was cut: call again with out_cap > *out_len (the
 * text may have changed meanwhile; a caller retries a few times). out_cap may be 0 (out may then
 * be NULL) to ask for the length only. The plugin keeps no pointer to any caller buffer.
 *
 * Beside the library lies a JSON manifest (<id>.plugin.json; plugin_api/README.md) with id,
 * version, ABI, the model_type x run_mode routes it serves and its parameters, so the host and UI
 * can list plugins without loading them.
 */
#ifndef OMNIHOST_PLUGIN_H
#define OMNIHOST_PLUGIN_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* ---- versioning ----------------------------------------------------------------------------- */

#define OMNIHOST_ABI_MAJOR 1
#define OMNIHOST_ABI_MINOR 0

/* Name of the single exported symbol, of type omnihost_plugin_entry_fn. Deliberately not the
 * typedef name omnihost_plugin_entry: C and C++ forbid a function and a type of one name. Define it as
 *   OMNIHOST_EXPORT const omnihost_plugin_entry *omnihost_plugin_get_entry(void) { ... }
 * (inside extern "C" in C++). */
#define OMNIHOST_PLUGIN_ENTRY_SYMBOL "omnihost_plugin_get_entry"

#if defined(_WIN32)
#define OMNIHOST_EXPORT __declspec(dllexport)
#else
#define OMNIHOST_EXPORT __attribute__((visibility("default")))
#endif

/* True when `member` lies inside what the filler of *struct_ptr declared with struct_size, so it
 * may be read. For an optional function member, also test it for NULL before calling it.
 *   if (OMNIHOST_HAS_MEMBER(host, get_extension) && host->get_extension) ...
 * struct_ptr may be NULL (false). Only the member's address is computed, never its value. */
#define OMNIHOST_HAS_MEMBER(struct_ptr, member)                                                  \
    ((struct_ptr) != NULL &&                                                                     \
     (size_t)(struct_ptr)->struct_size >=                                                        \
         (size_t)((const char *)&(struct_ptr)->member - (const char *)(struct_ptr)) +            \
             sizeof((struct_ptr)->member))

/* ---- status codes --------------------------------------------------------------------------- */

/* Every fallible call returns one of these; the reason goes into the call's error_buf. Append-only;
 * a caller treats a value it does not know as OMNIHOST_INTERNAL. */
typedef int32_t omnihost_status;
enum {
    OMNIHOST_OK = 0,
    OMNIHOST_INVALID_ARGUMENT = 1, /* the request/config is wrong; the reason starts with the field */
    OMNIHOST_NOT_SUPPORTED = 2,    /* valid, but this plugin/model cannot do it */
    OMNIHOST_OUT_OF_MEMORY = 3,    /* allocation failed (host RAM or device memory) */
    OMNIHOST_CANCELLED = 4,        /* the job's is_cancelled() returned non-zero and work stopped */
    OMNIHOST_UNAVAILABLE = 5,      /* not started / upstream unreachable / model not loaded */
    OMNIHOST_INTERNAL = 6          /* anything else; the reason says what */
};

/* ---- log levels ----------------------------------------------------------------------------- */

typedef int32_t omnihost_log_level;
enum {
    OMNIHOST_LOG_TRACE = 0,
    OMNIHOST_LOG_DEBUG = 1,
    OMNIHOST_LOG_INFO = 2,
    OMNIHOST_LOG_WARN = 3,
    OMNIHOST_LOG_ERROR = 4
};

/* ---- the host table (host -> plugin) -------------------------------------------------------- */

/* Handed to create(). Owned by the host, valid and unchanged until destroy() of that instance
 * returns; the plugin may keep the pointer. */
typedef struct omnihost_host {
    /* sizeof(omnihost_host) as compiled into the host. */
    uint32_t struct_size;

    /* Opaque; passed back as the first argument of every callback below. Owned by the host. */
    void *user_data;

    /* [any-thread] Emit one log line (no trailing newline needed). `source` names the emitter
     * (e.g. "video_diffusion", "vllm"); `message` is UTF-8. Both borrowed for the call only.
     * May be called concurrently; never blocks on slow log consumers (the host drops and counts
     * instead). Non-NULL. */
    void (*log)(void *user_data, omnihost_log_level level, const char *source,
                const char *message);

    /* [any-thread] The host's extension `extension_id` (borrowed for the call), or NULL when the
     * host does not offer it. The returned table is the extension's own struct, owned by the host
     * and valid as long as this host table. May be NULL (no host extensions). */
    const void *(*get_extension)(void *user_data, const char *extension_id);
} omnihost_host;

/* ---- a job (one start() or one generate()) -------------------------------------------------- */

/* Handed to start() and generate(); owned by the host and valid only for the duration of that
 * call. The plugin must not call any of these callbacks after the call returned (join helper
 * threads first). */
typedef struct omnihost_job {
    /* sizeof(omnihost_job) as compiled into the host. */
    uint32_t struct_size;

    /* Host-assigned id, UTF-8, unique per host process; for log lines. Borrowed for the call. */
    const char *job_id;

    /* Opaque; passed back to every callback below. Owned by the host. */
    void *user_data;

    /* [any-thread] Report progress: `step` of `total` (total 0 = unknown), `phase` a short
     * machine-readable word ("load", "encode", "denoise", "decode", "export", "upstream"),
     * `message` optional human-readable text (may be NULL). Strings borrowed for the call.
     * Cheap; never blocks. May be NULL (progress is not reported). */
    void (*progress)(void *user_data, int32_t step, int32_t total, const char *phase,
                     const char *message);

    /* [any-thread] Non-zero once the host wants the job to stop (user cancel, stop(), shutdown).
     * Poll it at every natural boundary (each denoising step, each upstream poll); on non-zero,
     * stop promptly, skip the remaining work (e.g. the VAE decode) and return OMNIHOST_CANCELLED.
     * Lock-free and cheap. May be NULL (never cancelled). */
    int32_t (*is_cancelled)(void *user_data);

    /* [any-thread] Stream a partial result as a UTF-8 JSON object, e.g. {"text":"Hel"} or
     * {"audio":"<base64>","audio_format":"wav"} for chat. Streaming tasks only. Borrowed for the
     * call. May be NULL (the host does not stream). */
    void (*emit)(void *user_data, const char *event_json);
} omnihost_job;

/* ---- a result ------------------------------------------------------------------------------- */

/* Produced by generate(); owned by the plugin, unchanged, until release_result() or destroy().
 * The host reads it from any of its threads but never writes it. */
typedef struct omnihost_result {
    uint32_t struct_size;         /* sizeof(omnihost_result) as compiled into the plugin */
    const uint8_t *data;          /* binary payload; NULL only when size is 0 (e.g. chat) */
    uint64_t size;                /* bytes at data */
    const char *mime_type;        /* e.g. "video/mp4", "audio/wav", "image/png"; non-NULL */
    const char *metadata_json;    /* UTF-8 JSON object: duration, frames, seed, ...; non-NULL */
} omnihost_result;

/* Opaque plugin instance, owned by the plugin from create() to destroy(). */
typedef struct omnihost_instance omnihost_instance;

/* ---- the plugin table (plugin -> host) ------------------------------------------------------ */

typedef struct omnihost_plugin_entry {
    /* ABI this plugin was built against: OMNIHOST_ABI_MAJOR / OMNIHOST_ABI_MINOR. */
    uint32_t abi_major;
    uint32_t abi_minor;
    /* sizeof(omnihost_plugin_entry) as compiled into the plugin. */
    uint32_t struct_size;

    /* Stable id (equal to the manifest's "id") and version ("1.2.3", equal to the manifest's
     * "version"). Static storage. Non-NULL. */
    const char *id;
    const char *version;

    /* [worker] Create an instance. `config_json` is the host's per-plugin configuration (a JSON
     * object, possibly "{}": plugin dir, data dir, binary paths...), borrowed for the call.
     * Cheap: no model loading here. On OK *out is the new instance; on failure *out is NULL and the
     * reason is in error_buf. `host` is kept by the host until destroy() returns.
     * Required. */
    omnihost_status (*create)(const omnihost_host *host, const char *config_json,
                              omnihost_instance **out, char *error_buf, size_t error_cap);

    /* [worker] Destroy an instance: stop it if started, free results not yet released, join every
     * thread the instance created. Before calling it the host has finished every other call on the
     * instance, [any-thread] ones included, and makes none afterwards. After the last destroy()
     * returns the host may unload the library. NULL is a no-op. Required. */
    void (*destroy)(omnihost_instance *inst);

    /* [worker] Start = load the model (in-process) or launch/connect the server (proxies).
     * `start_json`: the recipe merged with the user's start request (model, model_type, run_mode,
     * settings), validated against the manifest; borrowed. Blocks until ready, failed or
     * cancelled; reports progress through `job` (phase "load") and polls job->is_cancelled.
     * Returns OK once generate() can be called. `job` may be NULL (no progress, never cancelled).
     * Required. */
    omnihost_status (*start)(omnihost_instance *inst, const char *start_json,
                             const omnihost_job *job, char *error_buf, size_t error_cap);

    /* [any-thread] Health as a UTF-8 JSON object {"ready":bool,"failed":bool,"message":"..."} plus
     * optional extras (e.g. "pid", "exit_code", "models"), written into out (text-out rule).
     * `failed` true means the backend died after start (e.g. the subprocess exited) and the host
     * reports the slot failed with `message`. Before start: OK with "ready":false. Answer from
     * cached state. Required. */
    omnihost_status (*health)(omnihost_instance *inst, char *out, size_t out_cap, size_t *out_len,
                              char *error_buf, size_t error_cap);

    /* [worker] Generate. `request_json` is a JSON object with "task" ("video","audio","image",
     * "tts","chat") and the task's fields, validated and defaulted by the host against the
     * manifest; borrowed. On OK *out is a result owned by the plugin until release_result() or
     * destroy(); on failure *out is NULL. Reports progress and polls is_cancelled through `job`;
     * streaming tasks may also call job->emit. `job` may be NULL. Blocks. Required. */
    omnihost_status (*generate)(omnihost_instance *inst, const char *request_json,
                                const omnihost_job *job, omnihost_result **out,
                                char *error_buf, size_t error_cap);

    /* [any-thread] Give a result back; the plugin frees it. NULL, or a result this instance does
     * not know, is a no-op. Infallible. Required. */
    void (*release_result)(omnihost_instance *inst, omnihost_result *result);

    /* [worker] Stop = unload the model / terminate the server / disconnect. OK when not started;
     * calling it twice is OK. Blocks until resources are released. Results not yet released stay
     * valid. The host cancels a running start()/generate() through its job and waits for it to
     * return before calling stop(). Required. */
    omnihost_status (*stop)(omnihost_instance *inst, char *error_buf, size_t error_cap);

    /* [any-thread] Describe what start(start_json) would execute, without doing it: a JSON object
     * {"kind":"subprocess"|"container"|"inprocess"|"remote", "argv":[...], "env":{...},
     * "command":"shell-quoted one-liner", "settings":{...}} with every secret replaced by "***",
     * written into out (text-out rule). `start_json` borrowed. Must not block. Optional: NULL
     * means no preview. */
    omnihost_status (*command_preview)(omnihost_instance *inst, const char *start_json, char *out,
                                       size_t out_cap, size_t *out_len, char *error_buf,
                                       size_t error_cap);

    /* [any-thread] The plugin's extension `extension_id` (borrowed for the call; ids look like
     * "omnihost.<name>.v<major>", and a changed extension gets a new id), or NULL when it does not
     * offer it. `inst` NULL asks about the plugin as a whole (allowed whenever the library is
     * loaded, also before any instance exists). The returned table is the extension's own struct, static
     * storage, valid while the library is loaded; its functions carry their own markers.
     * Optional: NULL means no extensions. */
    const void *(*get_extension)(const omnihost_instance *inst, const char *extension_id);

    /* --- members appended in 1.1 and later go below this line --- */
} omnihost_plugin_entry;

/* [main] Signature of the exported entry symbol. Returns the same pointer every time; does no
 * other work (no allocation, no threads, no callbacks). */
typedef const omnihost_plugin_entry *(*omnihost_plugin_entry_fn)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* OMNIHOST_PLUGIN_H */
