/* warcio.c -- see warcio.h. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "warcio.h"

static int run(const char *cmd) {
    int st = system(cmd);
    return st == -1 || !WIFEXITED(st) ? -1 : WEXITSTATUS(st);
}

void warcio_require(void) {
    if (access("tests/warc_check.mjs", R_OK) != 0)
        fail_msg("tests/warc_check.mjs not found: run the tests from the repository root");
    if (run("node --version >/dev/null 2>&1") != 0)
        fail_msg("node is missing: install the Debian packages nodejs and npm (the warcio check needs them)");
    if (access("tests/node/node_modules/warcio/package.json", R_OK) != 0 &&
        run("npm ci --prefix tests/node --no-audit --no-fund >/dev/null 2>&1") != 0)
        fail_msg("`npm ci --prefix tests/node` failed: the npm package warcio could not be installed");
}

int warcio_check(const char *files) {
    char *cmd = NULL;
    if (asprintf(&cmd, "node tests/warc_check.mjs %s", files) < 0) return -1;
    int rc = run(cmd);
    free(cmd);
    return rc;
}

int warcio_list(const char *dir, char paths[][WARCIO_PATH], int max) {
    DIR *d = opendir(dir);
    if (!d) fail_msg("cannot list %s", dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len <= 8 || strcmp(e->d_name + len - 8, ".warc.gz") != 0) continue;
        if (n < max) {
            int k = snprintf(paths[n], WARCIO_PATH, "%s/%s", dir, e->d_name);
            assert_true(k > 0 && k < WARCIO_PATH);
        }
        n++;
    }
    closedir(d);
    qsort(paths, (size_t)(n < max ? n : max), WARCIO_PATH, (int (*)(const void *, const void *))strcmp);
    return n;
}
