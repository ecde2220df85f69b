/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * What this machine's memory allows a connection table, without ringwall:
 * the floor under `ringwall bench` at 10 M connections (docs/conntrack.md,
 * "Making it fast"). Three probes, each printing ns per access:
 *
 *   reach   one read per 4 KiB page, random pages, over a region of
 *           N MiB (the lines touched fit the L2 at 64 MiB): with THP,
 *           hugetlbfs 2 MiB and 1 GiB pages. Equal costs mean the TLB's
 *           reach is set by the hypervisor's page size, not ours.
 *   lookup  a two-level lookup like the table's: an 8-bit tag byte in a
 *           dense index of S slots, then the slot's 64-byte entry (read
 *           and written), for S = 1125 and 11,250,000 (1,000 and 10 M
 *           connections at 9/8), with W rounds of dependent work a
 *           lookup; "batch" prefetches 32 tags, then reads them and
 *           prefetches 32 entries, then uses them (the worker's stages);
 *           "stream" does the three steps for lookups i + 2D, i + D and i
 *           in one loop.
 *   entry   the entry alone (64 bytes of 11,250,000, read and written)
 *           with "wide" work: W rounds of eight independent ALU
 *           operations, so that one lookup's work is hundreds of
 *           instructions and the core's reorder window holds less than
 *           one of them, as in the worker (~700 instructions a packet);
 *           "none" without prefetch, "batch" 32 prefetches then 32 uses,
 *           "stream" the prefetch D lookups ahead.
 *
 *   latency a dependent chain of reads (each line holds the next line's
 *           address, in random order) over N MiB: the load-to-use latency
 *           of whichever level holds N MiB. Shows how much of the LLC this
 *           VM really gets (on the project's VM, ~4 MiB of the 32 MiB).
 *   hint    batches of 32 prefetches of random lines of N MiB, then the 32
 *           lines read and written with a little work: prefetcht0 (into
 *           L1) against prefetcht1 (into L2), the choice the connection
 *           table makes by size (RW_CT_L2_PF_BYTES).
 *
 *   cc -O2 -o build/memprobe bench/memprobe.c && build/memprobe
 *
 * hugetlbfs probes need pages reserved (/proc/sys/vm/nr_hugepages, and
 * /sys/kernel/mm/hugepages/hugepages-1048576kB/nr_hugepages); they are
 * skipped with a note when the mapping fails.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>

#ifndef MAP_HUGE_SHIFT
#define MAP_HUGE_SHIFT 26
#endif

#define NACC (1u << 23)

static uint64_t now_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static uint64_t rng_state = 0x853c49e6748fea9bull;

static uint32_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return (uint32_t)(rng_state >> 16);
}

/* kind 0: anonymous memory advised for THP; 21: hugetlbfs 2 MiB; 30: 1 GiB */
static uint8_t *region(size_t len, int kind, size_t *maplen)
{
	size_t huge = (size_t)1 << (kind ? kind : 21);
	uint8_t *p;

	*maplen = (len + huge - 1) / huge * huge;
	if (kind) {
		p = mmap(NULL, *maplen, PROT_READ | PROT_WRITE,
			 MAP_PRIVATE | MAP_ANONYMOUS | MAP_HUGETLB | (kind << MAP_HUGE_SHIFT), -1, 0);
		if (p == MAP_FAILED)
			return NULL;
	} else {
		p = mmap(NULL, *maplen + huge, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		p = (uint8_t *)(((uintptr_t)p + huge - 1) & ~(uintptr_t)(huge - 1));
		madvise(p, *maplen, MADV_HUGEPAGE);
	}
	memset(p, 1, len);
	return p;
}

static void probe_reach(size_t mb, int kind)
{
	static const char *const names[] = {[0] = "THP", [21] = "hugetlb 2M", [30] = "hugetlb 1G"};
	size_t len = mb << 20, pages = len / 4096, maplen;
	uint8_t *a = region(len, kind, &maplen);
	uint32_t *idx;
	uint64_t s = 0, t0;

	if (!a) {
		printf("reach  %4zu MiB %-10s: not mapped (no pages reserved)\n", mb, names[kind]);
		return;
	}
	idx = malloc(NACC * sizeof(*idx));
	if (!idx)
		exit(1);
	for (uint32_t i = 0; i < NACC; i++)
		idx[i] = rnd() % (uint32_t)pages;
	t0 = now_ns();
	for (uint32_t i = 0; i < NACC; i++) /* a different line of each page: no set conflicts */
		s += a[(size_t)idx[i] * 4096 + (idx[i] % 64) * 64];
	printf("reach  %4zu MiB %-10s: %5.2f ns/access (%zu pages)%s\n", mb, names[kind],
	       (double)(now_ns() - t0) / NACC, pages, s == 42 ? " " : "");
	free(idx);
	munmap(a, maplen);
}

static void probe_latency(size_t mb)
{
	size_t len = mb << 20, n = len / 64, maplen;
	uint8_t *a = region(len, 0, &maplen);
	uint32_t *perm = malloc(n * sizeof(*perm));
	void **q;
	uint64_t t0;

	if (!a || !perm)
		exit(1);
	for (size_t i = 0; i < n; i++)
		perm[i] = (uint32_t)i;
	for (size_t i = n - 1; i > 0; i--) { /* Fisher-Yates: one cycle through every line */
		size_t j = rnd() % (i + 1);
		uint32_t x = perm[i];
		perm[i] = perm[j];
		perm[j] = x;
	}
	for (size_t i = 0; i < n; i++)
		*(void **)(a + (size_t)perm[i] * 64) = a + (size_t)perm[(i + 1) % n] * 64;
	q = (void **)(a + (size_t)perm[0] * 64);
	for (uint32_t i = 0; i < NACC / 8; i++) /* warm: the TLB and caches as in steady state */
		q = *q;
	t0 = now_ns();
	for (uint32_t i = 0; i < NACC / 2; i++)
		q = *q;
	printf("latency %4zu MiB: %6.1f ns a dependent read%s\n", mb,
	       (double)(now_ns() - t0) / (NACC / 2), q == NULL ? " " : "");
	free(perm);
	munmap(a, maplen);
}

static void probe_hint(size_t mb, int l2)
{
	size_t len = mb << 20, n = len / 64, maplen;
	uint8_t *a = region(len, 0, &maplen);
	uint32_t *idx = malloc(NACC * sizeof(*idx));
	uint64_t acc = 0, t0;

	if (!a || !idx)
		exit(1);
	for (uint32_t i = 0; i < NACC; i++)
		idx[i] = rnd() % (uint32_t)n;
	t0 = now_ns();
	for (uint32_t b = 0; b < NACC; b += 32) {
		for (unsigned i = 0; i < 32; i++) {
			const uint8_t *e = a + (size_t)idx[b + i] * 64;
			if (l2)
				__builtin_prefetch(e, 0, 2);
			else
				__builtin_prefetch(e, 0, 3);
		}
		for (unsigned i = 0; i < 32; i++) {
			uint64_t *e = (uint64_t *)(a + (size_t)idx[b + i] * 64);
			uint64_t v = e[0] + e[1];

			for (unsigned k = 0; k < 4; k++)
				v = v * 31 + (v >> 7);
			e[2] = v;
			acc += v;
		}
	}
	printf("hint   %4zu MiB %s: %5.1f ns a line%s\n", mb, l2 ? "prefetcht1" : "prefetcht0",
	       (double)(now_ns() - t0) / NACC, acc == 42 ? " " : "");
	free(idx);
	munmap(a, maplen);
}

static uint64_t work(uint64_t x, unsigned w)
{
	for (unsigned k = 0; k < w; k++) {
		x ^= x >> 7;
		x *= 0x9e3779b97f4a7c15ull;
	}
	return x;
}

/* Independent work: eight chains, so the core runs it at several
 * instructions a cycle and its reorder window fills in well under one
 * lookup's worth (an empty asm keeps the compiler from folding it). */
static uint64_t wide(uint64_t x, unsigned w)
{
	uint64_t a0 = x, a1 = x + 1, a2 = x + 2, a3 = x + 3, a4 = x + 4, a5 = x + 5, a6 = x + 6, a7 = x + 7;

	for (unsigned k = 0; k < w; k++) {
		__asm__ volatile("" : "+r"(a0), "+r"(a1), "+r"(a2), "+r"(a3), "+r"(a4), "+r"(a5), "+r"(a6),
				 "+r"(a7));
		a0 += k, a1 ^= k, a2 += a0, a3 ^= a1, a4 += k, a5 ^= a4, a6 += k, a7 ^= a6;
	}
	return a0 ^ a1 ^ a2 ^ a3 ^ a4 ^ a5 ^ a6 ^ a7;
}

/* form 0: no prefetch; 1: batches of 32; 2: stream, prefetch d ahead */
static void probe_entry(size_t slots, unsigned w, int form, unsigned d)
{
	static const char *const forms[] = {"none", "batch", "stream"};
	size_t el;
	uint8_t *ent = region(slots * 64, 0, &el);
	uint32_t *idx = malloc(NACC * sizeof(*idx));
	uint64_t s = 0, t0;
	uint32_t n = NACC - 64;

	if (!ent || !idx)
		exit(1);
	for (uint32_t i = 0; i < NACC; i++)
		idx[i] = rnd() % (uint32_t)slots;
	t0 = now_ns();
	if (form == 1) {
		for (uint32_t i = 0; i + 32 <= n; i += 32) {
			for (unsigned j = 0; j < 32; j++)
				__builtin_prefetch(ent + (size_t)idx[i + j] * 64, 1);
			for (unsigned j = 0; j < 32; j++) {
				uint64_t *e = (uint64_t *)(ent + (size_t)idx[i + j] * 64);

				e[0]++;
				s += wide(e[1], w);
			}
		}
	} else {
		for (uint32_t i = 0; i < n; i++) {
			uint64_t *e = (uint64_t *)(ent + (size_t)idx[i] * 64);

			if (form == 2)
				__builtin_prefetch(ent + (size_t)idx[i + d] * 64, 1);
			e[0]++;
			s += wide(e[1], w);
		}
	}
	printf("entry  %9zu slots wide %2u %-6s", slots, w, forms[form]);
	if (form == 2)
		printf(" d=%-3u", d);
	else
		printf("      ");
	printf(": %5.1f ns/lookup%s\n", (double)(now_ns() - t0) / n, s == 42 ? " " : "");
	free(idx);
	munmap(ent, el);
}

static void probe_lookup(size_t slots, unsigned w, int stream, unsigned d)
{
	size_t tl, el;
	uint8_t *tags = region(slots, 0, &tl), *ent = region(slots * 64, 0, &el);
	uint32_t *idx = malloc(NACC * sizeof(*idx));
	uint8_t *tg = malloc(NACC);
	uint64_t s = 0, t0;

	if (!tags || !ent || !idx || !tg)
		exit(1);
	for (uint32_t i = 0; i < NACC; i++)
		idx[i] = rnd() % (uint32_t)slots;
	t0 = now_ns();
	if (!stream) {
		for (uint32_t i = 0; i + 32 <= NACC; i += 32) {
			for (unsigned j = 0; j < 32; j++)
				__builtin_prefetch(tags + idx[i + j]);
			for (unsigned j = 0; j < 32; j++) {
				tg[i + j] = tags[idx[i + j]];
				__builtin_prefetch(ent + (size_t)idx[i + j] * 64, 1);
			}
			for (unsigned j = 0; j < 32; j++) {
				uint64_t *e = (uint64_t *)(ent + (size_t)idx[i + j] * 64);

				e[0]++;
				s += work(e[1] + tg[i + j], w);
			}
		}
	} else {
		for (uint32_t i = 0; i + 2 * d < NACC; i++) {
			uint64_t *e = (uint64_t *)(ent + (size_t)idx[i] * 64);

			__builtin_prefetch(tags + idx[i + 2 * d]);
			tg[i + d] = tags[idx[i + d]];
			__builtin_prefetch(ent + (size_t)idx[i + d] * 64, 1);
			e[0]++;
			s += work(e[1] + tg[i], w);
		}
	}
	printf("lookup %9zu slots work %2u %-6s", slots, w, stream ? "stream" : "batch");
	if (stream)
		printf(" d=%-3u", d);
	else
		printf("      ");
	printf(": %5.1f ns/lookup%s\n", (double)(now_ns() - t0) / NACC, s == 42 ? " " : "");
	free(idx);
	free(tg);
	munmap(tags, tl);
	munmap(ent, el);
}

int main(void)
{
	probe_reach(8, 0);
	probe_reach(64, 0);
	probe_reach(64, 21);
	probe_reach(64, 30);
	for (unsigned w = 0; w <= 10; w += 10) {
		probe_lookup(1125, w, 0, 0);
		probe_lookup(11250000, w, 0, 0);
		probe_lookup(11250000, w, 1, 8);
		probe_lookup(11250000, w, 1, 32);
	}
	probe_entry(1125, 40, 0, 0);
	probe_entry(11250000, 40, 0, 0);
	probe_entry(11250000, 40, 1, 0);
	probe_entry(11250000, 40, 2, 8);
	static const size_t lat_mb[] = {1, 2, 4, 8, 16, 64, 1024};
	for (unsigned i = 0; i < sizeof(lat_mb) / sizeof(lat_mb[0]); i++)
		probe_latency(lat_mb[i]);
	for (int l2 = 0; l2 <= 1; l2++) {
		probe_hint(4, l2);
		probe_hint(640, l2);
	}
	return 0;
}
