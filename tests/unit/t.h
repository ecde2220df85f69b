/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * A minimal unit-test harness printing TAP ("ok 3 - name" / "not ok 4 -
 * name"), which tests/run.sh counts into the final "N passed, N failed".
 *
 *   TEST(parse_ipv4_basic) { ... CHECK(x == 1); CHECK_EQ(a, b); ... }
 *
 * A test fails when any CHECK fails; it goes on after a failure so that one
 * run shows every broken expectation. Include this in exactly one .c file per
 * test binary (it defines main).
 */
#ifndef RW_T_H
#define RW_T_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <inttypes.h>

struct t_case {
	const char *name;
	void (*fn)(void);
};

#define T_MAX_CASES 1024
static struct t_case t_cases[T_MAX_CASES];
static unsigned t_ncases;
static int t_failed_now;

#define TEST(name)                                                     \
	static void t_fn_##name(void);                                 \
	__attribute__((constructor)) static void t_reg_##name(void)    \
	{                                                              \
		if (t_ncases < T_MAX_CASES)                            \
			t_cases[t_ncases++] = (struct t_case){#name, t_fn_##name}; \
	}                                                              \
	static void t_fn_##name(void)

#define CHECK(cond)                                                                  \
	do {                                                                         \
		if (!(cond)) {                                                       \
			printf("#   %s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
			t_failed_now = 1;                                            \
		}                                                                    \
	} while (0)

#define CHECK_EQ(a, b)                                                              \
	do {                                                                        \
		long long t_a = (long long)(a), t_b = (long long)(b);               \
		if (t_a != t_b) {                                                   \
			printf("#   %s:%d: %s == %s failed: %lld != %lld\n", __FILE__, \
			       __LINE__, #a, #b, t_a, t_b);                         \
			t_failed_now = 1;                                           \
		}                                                                   \
	} while (0)

#define CHECK_STR(a, b)                                                             \
	do {                                                                        \
		const char *t_a = (a), *t_b = (b);                                  \
		if (!t_a || !t_b || strcmp(t_a, t_b) != 0) {                        \
			printf("#   %s:%d: %s == %s failed: \"%s\" != \"%s\"\n",   \
			       __FILE__, __LINE__, #a, #b, t_a ? t_a : "(null)",   \
			       t_b ? t_b : "(null)");                               \
			t_failed_now = 1;                                           \
		}                                                                   \
	} while (0)

int main(int argc, char **argv)
{
	unsigned failed = 0;
	printf("1..%u\n", t_ncases);
	for (unsigned i = 0; i < t_ncases; i++) {
		if (argc > 1 && !strstr(t_cases[i].name, argv[1]))
			continue;
		t_failed_now = 0;
		t_cases[i].fn();
		printf("%s %u - %s\n", t_failed_now ? "not ok" : "ok", i + 1, t_cases[i].name);
		failed += t_failed_now;
		fflush(stdout);
	}
	return failed ? 1 : 0;
}

#endif
