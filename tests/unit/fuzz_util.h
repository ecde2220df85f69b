/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The fuzzers' saved inputs (fuzz/<dir>/: corpora and every input a fuzzer
 * ever failed on), for the unit tests that replay them. The directory is
 * looked for under RW_SRCDIR, or the working directory (the repository
 * root when tests/run.sh runs the tests).
 */
#ifndef RW_TEST_FUZZ_UTIL_H
#define RW_TEST_FUZZ_UTIL_H

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* fn(ctx, buf, n) for each file of fuzz/<sub> (dot files and *.md notes
 * left out), its first cap bytes read into buf. Returns the files read:
 * 0 when the directory is not there. */
static inline unsigned fuzz_inputs(const char *sub, uint8_t *buf, size_t cap,
				   void (*fn)(void *ctx, uint8_t *buf, size_t n), void *ctx)
{
	const char *root = getenv("RW_SRCDIR");
	char dir[512], path[4096];
	struct dirent *e;
	unsigned files = 0;
	DIR *d;

	snprintf(dir, sizeof(dir), "%s/fuzz/%s", root ? root : ".", sub);
	d = opendir(dir);
	if (!d)
		return 0;
	while ((e = readdir(d))) {
		FILE *fp;
		size_t n;

		if (e->d_name[0] == '.' || strstr(e->d_name, ".md"))
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
		fp = fopen(path, "rb");
		if (!fp)
			continue;
		n = fread(buf, 1, cap, fp);
		fclose(fp);
		files++;
		fn(ctx, buf, n);
	}
	closedir(d);
	return files;
}

#endif
