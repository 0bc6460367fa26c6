/* trawl_cli.c -- running the trawl binary from tests (see trawl_cli.h). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "trawl_cli.h"

extern char **environ;
char tc_bin[PATH_MAX];
char tc_workdir[PATH_MAX];

int tc_setup(const char *label) {
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0) return -1;
    self[n] = 0;
    snprintf(tc_bin, sizeof tc_bin, "%s/../trawl", dirname(self));
    if (access(tc_bin, X_OK) != 0) {
        fprintf(stderr, "%s: %s not found (run make first)\n", label, tc_bin);
        return -1;
    }
    snprintf(tc_workdir, sizeof tc_workdir, "/tmp/trawl-%s-%d", label, (int)getpid());
    mkdir(tc_workdir, 0777);
    return 0;
}

int tc_teardown(void) {
    char cmd[PATH_MAX + 16];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tc_workdir);
    return system(cmd) == 0 ? 0 : -1;
}

pid_t tc_spawn_v(const char *first, va_list ap) {
    const char *argv[64] = {tc_bin};
    int argc = 1;
    for (const char *a = first; a && argc < 63; a = va_arg(ap, const char *)) argv[argc++] = a;
    argv[argc] = NULL;
    char errpath[PATH_MAX + 16];
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", tc_workdir);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, errpath, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    pid_t pid;
    int rc = posix_spawn(&pid, tc_bin, &fa, NULL, (char *const *)argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) fail_msg("cannot run %s: %s", tc_bin, strerror(rc));
    return pid;
}

pid_t tc_spawn(const char *first, ...) {
    va_list ap;
    va_start(ap, first);
    pid_t pid = tc_spawn_v(first, ap);
    va_end(ap);
    return pid;
}

int tc_wait(pid_t pid) {
    int status = 0;
    /* The test server's threads may interrupt the wait. */
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR) fail_msg("waitpid: %s", strerror(errno));
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

void tc_read_stderr(char *err, size_t n) {
    char errpath[PATH_MAX + 16];
    snprintf(errpath, sizeof errpath, "%s/stderr.txt", tc_workdir);
    err[0] = 0;
    FILE *f = fopen(errpath, "r");
    if (!f) return;
    size_t got = fread(err, 1, n - 1, f);
    err[got] = 0;
    fclose(f);
}

int tc_run(char *err, size_t errn, const char *first, ...) {
    va_list ap;
    va_start(ap, first);
    pid_t pid = tc_spawn_v(first, ap);
    va_end(ap);
    int rc = tc_wait(pid);
    if (err) tc_read_stderr(err, errn);
    return rc;
}

const char *tc_outdir(const char *name) {
    static char buf[PATH_MAX + 64];
    snprintf(buf, sizeof buf, "%s/%s", tc_workdir, name);
    char cmd[PATH_MAX + 80];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", buf);
    if (system(cmd) != 0) fail_msg("cannot clear %s", buf);
    return buf;
}
