/*
 * omnihost-conformance — checks a plugin library against the omnihost C ABI.
 *
 *   omnihost-conformance <plugin.so> [--manifest file] [--start-json JSON] [--generate-json JSON]
 *                        [--timeout seconds] [--verbose]
 *
 * Prints one line per check ("ok   - ..." / "FAIL - ...: why") and "N passed, N failed"; exits 0
 * only when every check passed. Without --start-json the model is never loaded (cheap checks only);
 * with it, one full start/generate/cancel/stop cycle runs. A JSON argument starting with '@' is
 * read from that file. A crash or a hang (timeout, default 600 s) is reported with the check that
 * caused it, exit code 2.
 */
#define _POSIX_C_SOURCE 200809L
#include "conformance.h"

#include <dlfcn.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int passed_count = 0;
static int failed_count = 0;
static const char *volatile current_check = "loading";

void check_begin(const char *name) { current_check = name; }

static void report(int passed, int always_detail, const char *name, const char *fmt, va_list ap) {
    if (passed) {
        ++passed_count;
        printf("ok   - %s", name);
    } else {
        ++failed_count;
        printf("FAIL - %s", name);
    }
    if (fmt && *fmt && (!passed || always_detail)) {
        printf(passed ? " (" : ": ");
        vprintf(fmt, ap);
        if (passed) printf(")");
    }
    printf("\n");
    fflush(stdout);
}

void check_result(int passed, const char *name, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    report(passed, 0, name, fmt, ap);
    va_end(ap);
}

void check_note(int passed, const char *name, const char *fmt, ...) {
    va_list ap;
    va_start(ap, fmt);
    report(passed, 1, name, fmt, ap);
    va_end(ap);
}

static void write_str(const char *s) {
    ssize_t r = write(STDOUT_FILENO, s, strlen(s));
    (void)r;
}

static void on_fatal(int sig) {
    /* async-signal-safe output only */
    write_str(sig == SIGALRM ? "FAIL - timeout during check: " : "FAIL - crash (signal) during check: ");
    write_str(current_check);
    write_str("\n");
    _exit(2);
}

char *read_text_file(const char *path) {
    FILE *f = fopen(path, "rb");
    char *buf;
    long n;
    if (!f) return NULL;
    if (fseek(f, 0, SEEK_END) != 0 || (n = ftell(f)) < 0 || fseek(f, 0, SEEK_SET) != 0) {
        fclose(f);
        return NULL;
    }
    buf = (char *)malloc((size_t)n + 1);
    if (buf && fread(buf, 1, (size_t)n, f) != (size_t)n) {
        free(buf);
        buf = NULL;
    }
    if (buf) buf[n] = 0;
    fclose(f);
    return buf;
}

static const char *json_arg(const char *arg) {
    if (arg && arg[0] == '@') {
        char *text = read_text_file(arg + 1);
        if (!text) {
            fprintf(stderr, "omnihost-conformance: cannot read %s\n", arg + 1);
            exit(64);
        }
        return text; /* lives until exit */
    }
    return arg;
}

static void usage(void) {
    fprintf(stderr,
            "usage: omnihost-conformance <plugin.so> [--manifest file] [--start-json JSON|@file]\n"
            "                            [--generate-json JSON|@file] [--timeout seconds] [--verbose]\n");
    exit(64);
}

int main(int argc, char **argv) {
    conformance_options opts;
    void *lib;
    const omnihost_plugin_entry *entry = NULL;
    unsigned timeout_s = 600;
    int i;
    memset(&opts, 0, sizeof opts);
    for (i = 1; i < argc; ++i) {
        if (strcmp(argv[i], "--manifest") == 0 && i + 1 < argc) opts.manifest_path = argv[++i];
        else if (strcmp(argv[i], "--start-json") == 0 && i + 1 < argc) opts.start_json = json_arg(argv[++i]);
        else if (strcmp(argv[i], "--generate-json") == 0 && i + 1 < argc) opts.generate_json = json_arg(argv[++i]);
        else if (strcmp(argv[i], "--timeout") == 0 && i + 1 < argc) timeout_s = (unsigned)strtoul(argv[++i], NULL, 10);
        else if (strcmp(argv[i], "--verbose") == 0) opts.verbose = 1;
        else if (argv[i][0] == '-') usage();
        else if (!opts.plugin_path) opts.plugin_path = argv[i];
        else usage();
    }
    if (!opts.plugin_path) usage();

    signal(SIGSEGV, on_fatal);
    signal(SIGBUS, on_fatal);
    signal(SIGFPE, on_fatal);
    signal(SIGILL, on_fatal);
    signal(SIGABRT, on_fatal);
    signal(SIGALRM, on_fatal);
    alarm(timeout_s);

    /* Local scope and immediate binding, as the host loads plugins. */
    check_begin("load library");
    lib = dlopen(opts.plugin_path, RTLD_NOW | RTLD_LOCAL);
    check_result(lib != NULL, "library loads with RTLD_NOW|RTLD_LOCAL", lib ? "" : "%s", lib ? "" : dlerror());
    if (lib) {
        omnihost_plugin_entry_fn fn;
        void *sym;
        check_begin("entry symbol");
        sym = dlsym(lib, OMNIHOST_PLUGIN_ENTRY_SYMBOL);
        check_result(sym != NULL, "exports entry symbol " OMNIHOST_PLUGIN_ENTRY_SYMBOL, sym ? "" : "not found");
        if (sym) {
            const omnihost_plugin_entry *again;
            memcpy(&fn, &sym, sizeof fn); /* object -> function pointer, the POSIX way */
            check_begin("entry function");
            entry = fn();
            again = fn();
            check_result(entry != NULL, "entry function returns a table", "");
            check_result(entry == again, "entry function returns the same pointer every time", "");
        }
    }
    run_entry_checks(entry, &opts);
    run_instance_checks(entry, &opts);
    run_cycle_checks(entry, &opts);

    printf("%d passed, %d failed\n", passed_count, failed_count);
    /* The library stays loaded: the process exits right away, and unloading could only add risk. */
    return failed_count == 0 ? 0 : 1;
}
