/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The ring between workers (src/worker/spsc.h): full and empty at the
 * right counts, wrap-around, and two threads passing a million numbered
 * messages through a small ring: every one arrives, in order, and a push
 * is refused only when the ring really holds every slot.
 */
#include <pthread.h>
#include <time.h>

#include "t.h"
#include "worker/spsc.h"

struct msg {
	uint64_t seq;
	uint64_t check;  /* seq * a constant: a torn copy shows */
	uint8_t pad[48];
};

TEST(sizes_refused)
{
	CHECK(rw_spsc_create(0, 8) == NULL);
	CHECK(rw_spsc_create(3, 8) == NULL);
	CHECK(rw_spsc_create(8, 0) == NULL);
	CHECK(rw_spsc_create(1u << 31, 1024) == NULL);
}

TEST(full_empty_and_wrap)
{
	struct rw_spsc *r = rw_spsc_create(8, sizeof(struct msg));
	struct msg m = {0}, out;
	uint64_t next_in = 0, next_out = 0;

	CHECK(r != NULL);
	if (!r)
		return;
	CHECK(!rw_spsc_pop(r, &out));
	/* many laps of fill-to-full, drain-to-empty: indices wrap the slots */
	for (int lap = 0; lap < 100; lap++) {
		unsigned n = 0;

		for (;;) {
			m.seq = next_in;
			m.check = next_in * 0x9e3779b97f4a7c15ull;
			if (!rw_spsc_push(r, &m))
				break;
			next_in++;
			n++;
		}
		CHECK_EQ(n, 8);
		n = 0;
		while (rw_spsc_pop(r, &out)) {
			CHECK_EQ(out.seq, next_out);
			CHECK_EQ(out.check, next_out * 0x9e3779b97f4a7c15ull);
			next_out++;
			n++;
		}
		CHECK_EQ(n, 8);
	}
	rw_spsc_destroy(r);
}

#define N_MSGS 1000000u

struct side {
	struct rw_spsc *r;
	uint64_t refused, bad, got;
};

static void *producer(void *arg)
{
	struct side *s = arg;
	struct msg m = {0};

	for (uint64_t i = 0; i < N_MSGS;) {
		m.seq = i;
		m.check = i * 0x9e3779b97f4a7c15ull;
		if (rw_spsc_push(s->r, &m))
			i++;
		else
			s->refused++;
	}
	return NULL;
}

TEST(two_threads_in_order_no_loss)
{
	struct side s = {.r = rw_spsc_create(64, sizeof(struct msg))};
	pthread_t t;
	struct msg out;

	struct timespec t0, t1;

	CHECK(s.r != NULL);
	if (!s.r)
		return;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	CHECK_EQ(pthread_create(&t, NULL, producer, &s), 0);
	while (s.got < N_MSGS) {
		if (!rw_spsc_pop(s.r, &out))
			continue;
		if (out.seq != s.got || out.check != s.got * 0x9e3779b97f4a7c15ull)
			s.bad++;
		s.got++;
	}
	pthread_join(t, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	printf("# %.1f ns per 64-byte message between two threads\n",
	       ((double)(t1.tv_sec - t0.tv_sec) * 1e9 + (double)(t1.tv_nsec - t0.tv_nsec)) / N_MSGS);
	CHECK_EQ(s.got, N_MSGS);
	CHECK_EQ(s.bad, 0);
	CHECK(!rw_spsc_pop(s.r, &out));
	printf("# %u messages, producer found the ring full %llu times\n", N_MSGS,
	       (unsigned long long)s.refused);
	rw_spsc_destroy(s.r);
}

/* A push refused means full: with a consumer that never reads, exactly the
 * ring's size gets in, whatever the producer's cached view. */
TEST(refused_only_when_full)
{
	struct rw_spsc *r = rw_spsc_create(32, sizeof(struct msg));
	struct msg m = {0};
	unsigned in = 0;

	CHECK(r != NULL);
	if (!r)
		return;
	for (int i = 0; i < 100; i++)
		in += rw_spsc_push(r, &m);
	CHECK_EQ(in, 32);
	rw_spsc_destroy(r);
}
