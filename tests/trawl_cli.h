/* trawl_cli.h -- helpers for tests that run the trawl binary as a user would: find it
 * beside the tests folder, run it in a scratch directory, read its exit status and
 * stderr. Failures to run it fail the calling cmocka test. */
#ifndef TRAWL_CLI_H
#define TRAWL_CLI_H

#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/types.h>

extern char tc_bin[PATH_MAX];     /* the trawl binary: build/<tree>/trawl */
extern char tc_workdir[PATH_MAX]; /* a scratch directory, removed by tc_teardown */

/* Finds the binary (build/tests/x -> build/trawl) and makes /tmp/trawl-<label>-<pid>.
 * Returns 0, or -1 (message on stderr) when the binary is missing. */
int tc_setup(const char *label);
/* Removes the scratch directory. Returns 0 or -1. */
int tc_teardown(void);
/* Starts trawl with args (NULL-ended); stdout to /dev/null, stderr to
 * tc_workdir/stderr.txt. */
pid_t tc_spawn_v(const char *first, va_list ap);
pid_t tc_spawn(const char *first, ...);
/* The exit status of pid as a shell gives it (128+N for signal N). */
int tc_wait(pid_t pid);
/* The last run's stderr text into err (n bytes). */
void tc_read_stderr(char *err, size_t n);
/* Runs trawl to its end; returns the exit status, and the stderr text in err (if not
 * NULL). */
int tc_run(char *err, size_t errn, const char *first, ...);
/* A fresh (absent) path tc_workdir/name; valid until the next call. */
const char *tc_outdir(const char *name);

#endif
