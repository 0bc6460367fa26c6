/* warcio.h -- tests' access to the independent WARC reader: tests/warc_check.mjs, which
 * reads .warc.gz files with the npm package warcio and recomputes every digest. */
#ifndef TESTS_WARCIO_H
#define TESTS_WARCIO_H

#define WARCIO_PATH 512

/* Makes sure node and warcio are installed (npm ci --prefix tests/node when missing);
 * fails the calling cmocka test with a clear message otherwise. Run from the
 * repository root. */
void warcio_require(void);

/* Runs the check on files (a shell word list: quote paths, globs allowed). Returns the
 * script's exit status: 0 when every record of every file passes, 1 on any problem
 * (printed), 2 on bad usage, -1 if it could not run. */
int warcio_check(const char *files);

/* Paths ("DIR/NAME") of the *.warc.gz files in dir, sorted by name, into paths (at most
 * max); returns how many there are (which may be more than max). Fails the calling
 * test if dir cannot be read. */
int warcio_list(const char *dir, char paths[][WARCIO_PATH], int max);

#endif
