/*
 * omnihost_plugin.h — the stable C ABI between the omnihost host and its backend plugins.
 *
 * C99, compiles unchanged as C++. Nothing here depends on anything but the C standard library.
 *
 * Shape of the contract (CLAP / OBS style):
 *   - A plugin is a shared library exporting ONE symbol, OMNIHOST_PLUGIN_ENTRY_SYMBOL, a function
 *     returning a pointer to a const omnihost_plugin_entry that lives as long as the library is
 *     loaded.
 *   - Every struct starts with a size field (struct_size), so tables can grow by appending members.
 *     A reader uses only members that lie inside min(struct_size, sizeof(its own view)); members
 *     beyond what the other side declared are treated as NULL / zero.
 *   - The host refuses an entry whose abi_major differs from OMNIHOST_ABI_MAJOR and accepts any
 *     abi_minor. New members are only ever appended, under a comment naming the minor version that
 *     added them. Nothing is ever reordered or removed within a major version.
 *   - Configs, requests and result metadata cross the boundary as UTF-8 JSON strings.
 *   - Binary results (MP4, WAV, PNG, ...) cross as pointer + length + MIME type, owned by the plugin
 *     until the host hands them back with release_result().
 *   - Errors are status codes plus a per-instance last_error() string. No C++ exception, longjmp or
 *     abort may cross the boundary: a C++ plugin catches everything at the edge.
 *   - There are no global callbacks: every callback comes with the user_data pointer to pass back.
 *
 * Beside the library lies a JSON manifest (<id>.plugin.json, see docs in README "Writing a plugin")
 * describing id, version, ABI, the model_type x run_mode routes it serves and its parameters, so the
 * host and UI can list plugins without loading them.
 *
 * Threads, in short: the host calls create/destroy/start/stop/generate from its worker thread(s),
 * never two of start/stop/generate on one instance at the same time; health() and last_error() may be
 * called from any thread at any time, including while start() or generate() run on another thread.
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

/* ---- status codes --------------------------------------------------------------------------- */

/* Every fallible call returns one of these. Append-only. The host maps them to HTTP:
 * INVALID_ARGUMENT -> 400 (or 422), NOT_SUPPORTED -> 400/501, UNAVAILABLE -> 503,
 * OUT_OF_MEMORY -> 507, CANCELLED -> 499-style "cancelled" answer, INTERNAL -> 500. */
typedef int32_t omnihost_status;
enum {
    OMNIHOST_OK = 0,
    OMNIHOST_INVALID_ARGUMENT = 1, /* the request/config is wrong; last_error names the field */
    OMNIHOST_NOT_SUPPORTED = 2,    /* valid, but this plugin/model cannot do it */
    OMNIHOST_OUT_OF_MEMORY = 3,    /* allocation failed (host RAM or device memory) */
    OMNIHOST_CANCELLED = 4,        /* the job's is_cancelled() returned non-zero and work stopped */
    OMNIHOST_UNAVAILABLE = 5,      /* not started / upstream unreachable / model not loaded */
    OMNIHOST_INTERNAL = 6          /* anything else; last_error says what */
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

/* Handed to create(). The host keeps it valid and unchanged until destroy() of that instance
 * returns; the plugin may keep the pointer. */
typedef struct omnihost_host {
    /* sizeof(omnihost_host) as compiled into the host. Read members only inside it. */
    uint32_t struct_size;

    /* Opaque; passed back as the first argument of every callback below. Owned by the host. */
    void *user_data;

    /* Emit one log line (no trailing newline needed). `source` names the emitter (e.g.
     * "video_diffusion", "vllm"); `message` is UTF-8. Both are borrowed for the call only.
     * Thread: any thread, including threads the plugin created; may be called concurrently.
     * Never blocks on slow log consumers (the host drops and counts instead). Non-NULL. */
    void (*log)(void *user_data, omnihost_log_level level, const char *source,
                const char *message);
} omnihost_host;

/* ---- a job (one start() or one generate()) -------------------------------------------------- */

/* Handed to start() and generate(); valid only for the duration of that call. The plugin must not
 * call any of these callbacks after the call returned (join helper threads first). */
typedef struct omnihost_job {
    /* sizeof(omnihost_job) as compiled into the host. */
    uint32_t struct_size;

    /* Host-assigned id, UTF-8, unique per host process; for log lines. Borrowed for the call. */
    const char *job_id;

    /* Opaque; passed back to every callback below. Owned by the host. */
    void *user_data;

    /* Report progress: `step` of `total` (total 0 = unknown), `phase` a short machine-readable
     * word ("load", "encode", "denoise", "decode", "export", "upstream"), `message` optional
     * human-readable text (may be NULL). Strings borrowed for the call.
     * Thread: any thread; cheap; never blocks. May be NULL in which case progress is not reported. */
    void (*progress)(void *user_data, int32_t step, int32_t total, const char *phase,
                     const char *message);

    /* Returns non-zero once the host wants the job to stop (user cancel, stop(), shutdown).
     * Poll it at every natural boundary (each denoising step, each upstream poll); on non-zero,
     * stop promptly, skip the remaining work (e.g. the VAE decode) and return OMNIHOST_CANCELLED.
     * Thread: any thread; lock-free and cheap. May be NULL (never cancelled). */
    int32_t (*is_cancelled)(void *user_data);

    /* Stream a partial result as a UTF-8 JSON object, e.g. {"text":"Hel"} or
     * {"audio":"<base64>","audio_format":"wav"} for chat. Used by streaming tasks only.
     * Thread: any thread. Borrowed for the call. May be NULL (host does not stream). */
    void (*emit)(void *user_data, const char *event_json);
} omnihost_job;

/* ---- a result ------------------------------------------------------------------------------- */

/* Produced by generate(); owned by the plugin until release_result(). The host reads it from the
 * thread that called generate() and from others, but never mutates it. */
typedef struct omnihost_result {
    uint32_t struct_size;         /* sizeof(omnihost_result) as compiled into the plugin */
    const uint8_t *data;          /* binary payload (may be NULL when size is 0, e.g. chat) */
    uint64_t size;                /* bytes at data */
    const char *mime_type;        /* e.g. "video/mp4", "audio/wav", "image/png"; non-NULL */
    const char *metadata_json;    /* UTF-8 JSON object: duration, frames, seed, ...; non-NULL */
} omnihost_result;

/* Opaque plugin instance. */
typedef struct omnihost_instance omnihost_instance;

/* ---- the plugin table (plugin -> host) ------------------------------------------------------ */

typedef struct omnihost_plugin_entry {
    /* ABI this plugin was built against: OMNIHOST_ABI_MAJOR / OMNIHOST_ABI_MINOR. */
    uint32_t abi_major;
    uint32_t abi_minor;
    /* sizeof(omnihost_plugin_entry) as compiled into the plugin. */
    uint32_t struct_size;

    /* Stable id (must equal the manifest's "id"), version string ("1.2.3"). Static storage. */
    const char *id;
    const char *version;

    /* Create an instance. `config_json` is the host's per-plugin configuration (a JSON object,
     * possibly "{}": plugin dir, data dir, binary paths...); borrowed for the call.
     * Must be cheap: no model loading here. On failure returns non-OK, sets *out to NULL and may
     * write a NUL-terminated reason into error_buf (capacity error_cap, may be 0).
     * Thread: host worker thread. Blocking: briefly. */
    omnihost_status (*create)(const omnihost_host *host, const char *config_json,
                              omnihost_instance **out, char *error_buf, size_t error_cap);

    /* Destroy an instance, first stopping it if started. After it returns, the host may unload
     * the library. Results not yet released are released. Thread: host worker thread.
     * Never called concurrently with any other call on the same instance except health/last_error
     * (which the host stops issuing first). */
    void (*destroy)(omnihost_instance *inst);

    /* Start = load the model (in-process) or launch/connect the server (proxies).
     * `start_json`: the recipe merged with the user's start request (model, model_type, run_mode,
     * settings). Blocks until ready, failed or cancelled; reports progress through `job` (phase
     * "load") and polls job->is_cancelled. Returns OK once generate() can be called.
     * Thread: host worker thread (never an HTTP thread). */
    omnihost_status (*start)(omnihost_instance *inst, const char *start_json,
                             const omnihost_job *job);

    /* Health, as a UTF-8 JSON object {"ready":bool,"failed":bool,"message":"..."} and optional
     * extras (e.g. "pid", "exit_code", "models"). `failed` true means the backend died after start
     * (e.g. the subprocess exited) and the host should report the slot failed with `message`.
     * *out_json is owned by the instance and valid until the next health() call on it or destroy.
     * Thread: ANY thread, concurrently with start/generate/stop; must not block for long
     * (a cached answer is fine). */
    omnihost_status (*health)(omnihost_instance *inst, const char **out_json);

    /* Generate. `request_json` is a JSON object with "task" ("video","audio","image","tts","chat")
     * and the task's fields as validated by the host (prompt, seed, ...). On OK, *out is a result
     * owned by the plugin until release_result(). Reports progress and polls is_cancelled through
     * `job`; streaming tasks may also call job->emit. Thread: host worker thread; the host
     * guarantees at most one generate() per instance at a time. Blocking: yes. */
    omnihost_status (*generate)(omnihost_instance *inst, const char *request_json,
                                const omnihost_job *job, omnihost_result **out);

    /* Give a result back; the plugin frees it. NULL is a no-op. Thread: any host thread. */
    void (*release_result)(omnihost_instance *inst, omnihost_result *result);

    /* Stop = unload the model / terminate the server / disconnect. Idempotent; OK when not
     * started. Blocks until resources are released. Thread: host worker thread; never concurrent
     * with start() or generate() on the same instance (the host cancels and waits for them). */
    omnihost_status (*stop)(omnihost_instance *inst);

    /* Human-readable reason for the last non-OK status returned on this instance by the calling
     * thread's last call (UTF-8, never NULL, "" if none). Owned by the instance; valid until the
     * next call on the instance. Thread: any. */
    const char *(*last_error)(omnihost_instance *inst);

    /* Describe what start(start_json) would execute, without doing it: a JSON object
     * {"kind":"subprocess"|"container"|"inprocess"|"remote", "argv":[...], "env":{...},
     * "command":"shell-quoted one-liner", "settings":{...}} with every secret replaced by "***".
     * *out_json owned by the instance, valid until the next command_preview() call or destroy.
     * Thread: any host thread; must not block. May be NULL in the table (no preview). */
    omnihost_status (*command_preview)(omnihost_instance *inst, const char *start_json,
                                       const char **out_json);

    /* --- appended in 1.1 and later go below this line --- */
} omnihost_plugin_entry;

/* Signature of the exported entry symbol. Must return the same pointer every time. */
typedef const omnihost_plugin_entry *(*omnihost_plugin_entry_fn)(void);

#ifdef __cplusplus
} /* extern "C" */
#endif

#endif /* OMNIHOST_PLUGIN_H */
