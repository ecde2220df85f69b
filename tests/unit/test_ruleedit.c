/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Live rule and table edits (src/worker/edit.c) on a real engine: two pcap
 * ports whose captures interleave in time, so that each poll of the worker
 * takes exactly one frame from each, and edits land between packets.
 *
 *   port a: ICMP echo 10.0.0.1 -> 10.0.0.2, one per poll (ids chosen per test)
 *   port b: UDP 10.9.9.9 -> 10.9.9.8:9, one per poll (filler)
 *
 * Checked: verdicts before and after each edit, per-rule counters staying
 * with their rules through renumbering, an existing connection still
 * credited to its (renumbered) rule, tables edited in place, bad input
 * refused with nothing changed. Run under ASan for the ownership rules.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "classify/classify.h"
#include "worker/engine.h"
#include "t.h"
#include "frame_util.h"
#include "engine_util.h"

#define NPKT 12

static char dir[32];

/* Ethernet + IPv4 + (ICMP echo id | UDP to port 9), 60 bytes. */
static size_t frame(uint8_t *f, bool icmp, uint16_t id, uint32_t src, uint32_t dst)
{
	uint8_t *l4 = eth_ip4(f, icmp ? 1 : 17, src, dst, 8 + 8);
	uint16_t c;

	if (icmp) {
		l4[0] = 8;
		l4[4] = (uint8_t)(id >> 8);
		l4[5] = (uint8_t)id;
		l4[7] = 1;
		c = rw_csum_fold(rw_csum_partial(l4, 16, 0));
		memcpy(l4 + 2, &c, 2);
	} else {
		l4[0] = 0x30, l4[1] = 0x39;
		l4[3] = 9;
		l4[5] = 16;
	}
	return FRAME_LEN;
}

/* a's frames at odd microseconds, b's at even ones. ids[i]: the ICMP id
 * of a's frame i (so a test chooses which are one connection). */
static void write_caps(const uint16_t *ids)
{
	for (int port = 0; port < 2; port++) {
		pcap_t *h = pcap_open_dead(DLT_EN10MB, 65535);
		char path[64];
		pcap_dumper_t *d;

		snprintf(path, sizeof(path), "%s/%c.pcap", dir, 'a' + port);
		d = pcap_dump_open(h, path);
		if (!d)
			abort();
		for (int i = 0; i < NPKT; i++) {
			uint8_t f[60];
			struct pcap_pkthdr ph = {.ts = {.tv_sec = 1, .tv_usec = 2 * i + 1 + port}};

			ph.caplen = ph.len = (unsigned)frame(f, !port, ids[i], port ? 0x0a090909 : 0x0a000001,
							     port ? 0x0a090908 : 0x0a000002);
			pcap_dump((u_char *)d, &ph, f);
		}
		pcap_dump_close(d);
		pcap_close(h);
	}
}

static struct rw_engine *start(const char *rules, const uint16_t *ids)
{
	char text[3072];

	if (!dir[0])
		engine_dir(dir, sizeof(dir), "/tmp/rwedit.XXXXXX");
	write_caps(ids);
	snprintf(text, sizeof(text), "table <bad> { 192.0.2.1 }\n%s", rules);
	return pcap_engine(dir, text);
}

static void stop(struct rw_engine *e)
{
	rw_engine_fini(e);
	free(e);
}

/* One poll: a's next frame and b's. True when a's frame was forwarded. */
static bool step(struct rw_engine *e)
{
	struct rw_worker_stats a, b;

	rw_engine_sum_stats(e, &a);
	CHECK_EQ(rw_worker_poll(&e->workers[0]), 2u);
	rw_engine_sum_stats(e, &b);
	return b.port[1].tx_pkts == a.port[1].tx_pkts + 1;
}

static uint64_t pkts(struct rw_engine *e, uint32_t rule)
{
	const struct rw_ruleset *rs = atomic_load(&e->rs);

	return rw_ruleset_rule_total(rs, rule).packets;
}

static const char *text_of(struct rw_engine *e, uint32_t rule)
{
	const struct rw_ruleset *rs = atomic_load(&e->rs);

	return rule < rs->cfg.nrules ? rs->cfg.rules[rule].text : "";
}

TEST(add_then_remove_changes_the_next_packet)
{
	static const uint16_t ids[NPKT] = {1, 2, 3, 4, 5, 6};
	struct rw_engine *e = start("block in on a proto icmp\npass in on b proto udp\n", ids);
	struct rw_edit_result res = {0};
	char err[512] = "";

	CHECK(!step(e));
	CHECK_EQ(pkts(e, 0), 1u);
	CHECK_EQ(rw_engine_rule_insert(e, 0, "pass in on a proto icmp", &res, err, sizeof(err)), 0);
	CHECK_EQ(res.pos, 0u);
	CHECK_EQ(res.nrules, 3u);
	CHECK(res.visible_ns <= res.total_ns);
	CHECK(!strcmp(text_of(e, 0), "pass in on a proto icmp"));
	/* the old rules moved up one and kept their counts */
	CHECK_EQ(pkts(e, 0), 0u);
	CHECK_EQ(pkts(e, 1), 1u);
	CHECK_EQ(pkts(e, 2), 1u);
	CHECK(step(e));
	CHECK_EQ(pkts(e, 0), 1u);
	CHECK_EQ(pkts(e, 2), 2u);
	CHECK_EQ(rw_engine_rule_remove(e, 0, &res, err, sizeof(err)), 0);
	CHECK_EQ(res.nrules, 2u);
	CHECK(!step(e));
	CHECK_EQ(pkts(e, 0), 2u);
	CHECK_EQ(pkts(e, 1), 3u);
	stop(e);
}

TEST(connection_keeps_its_renumbered_rule)
{
	/* one ICMP echo connection (id 7) throughout, then a new one (id 8) */
	static const uint16_t ids[NPKT] = {7, 7, 7, 7, 8, 8};
	struct rw_engine *e = start("pass in on a proto icmp\n", ids);
	struct rw_edit_result res = {0};
	char err[512] = "";

	CHECK(step(e));
	CHECK(step(e));
	CHECK_EQ(pkts(e, 0), 2u);
	/* two edits ahead of it: the pass rule is now rule 2 */
	CHECK_EQ(rw_engine_rule_insert(e, 0, "block in on b proto tcp", &res, err, sizeof(err)), 0);
	CHECK_EQ(rw_engine_rule_insert(e, 1, "block in on b proto 47", &res, err, sizeof(err)), 0);
	CHECK_EQ(pkts(e, 2), 2u);
	CHECK(step(e)); /* state hit, credited through both edits */
	CHECK_EQ(pkts(e, 2), 3u);
	CHECK_EQ(pkts(e, 0) + pkts(e, 1), 0u);
	/* its rule removed: the connection goes on (as on a reload), uncounted;
	 * a new connection meets the rules as they are now (default block) */
	CHECK_EQ(rw_engine_rule_remove(e, 2, &res, err, sizeof(err)), 0);
	CHECK(step(e));
	CHECK_EQ(pkts(e, 0) + pkts(e, 1), 0u);
	CHECK(!step(e));
	stop(e);
}

TEST(edit_chain_longer_than_remembered)
{
	static const uint16_t ids[NPKT] = {9, 9, 9};
	struct rw_engine *e = start("pass in on a proto icmp\n", ids);
	struct rw_edit_result res = {0};
	char err[512] = "";

	CHECK(step(e));
	for (int i = 0; i < RW_RULESET_EDITS + 2; i++)
		CHECK_EQ(rw_engine_rule_insert(e, 0, "block in on b proto tcp", &res, err,
					       sizeof(err)), 0);
	/* too old to map: still passes (state), no longer counted, no crash */
	CHECK(step(e));
	CHECK_EQ(pkts(e, RW_RULESET_EDITS + 2), 1u);
	stop(e);
}

/* Each edit reuses the counter memory of the set two edits back, zeroed
 * after its publication: a count left in it would show here. */
TEST(counters_exact_through_recycled_memory)
{
	static const uint16_t ids[NPKT] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
	struct rw_engine *e = start("pass in on a proto icmp\npass in on b proto udp\n", ids);
	struct rw_edit_result res = {0};
	char err[512] = "";

	for (uint64_t i = 0; i < 5; i++) {
		CHECK_EQ(rw_engine_rule_insert(e, 0, "block in on b proto tcp", &res, err,
					       sizeof(err)), 0);
		CHECK(step(e));
		CHECK_EQ(pkts(e, 0), 0u);
		CHECK_EQ(pkts(e, 1), 2 * i + 1);
		CHECK_EQ(pkts(e, 2), 2 * i + 1);
		CHECK_EQ(rw_engine_rule_remove(e, 0, &res, err, sizeof(err)), 0);
		CHECK(step(e));
		CHECK_EQ(pkts(e, 0), 2 * i + 2);
		CHECK_EQ(pkts(e, 1), 2 * i + 2);
		CHECK(!strcmp(text_of(e, 0), "pass in on a proto icmp"));
	}
	stop(e);
}

static int32_t classify_from(struct rw_engine *e, uint32_t src)
{
	const struct rw_ruleset *rs = atomic_load(&e->rs);
	struct rw_ckey k = {.af = RW_AF_INET, .proto = 1, .in_port = 0, .sport = 8};

	src = htonl(src);
	k.src[10] = k.src[11] = 0xff;
	k.dst[10] = k.dst[11] = 0xff;
	memcpy(k.src + 12, &src, 4);
	return rw_classify_one(rs->cls, &k);
}

TEST(table_add_and_remove_in_place)
{
	static const uint16_t ids[NPKT] = {1, 2, 3, 4};
	struct rw_engine *e = start("block in on a from <bad>\npass in on a proto icmp\n", ids);
	struct rw_edit_result res = {0};
	const struct rw_ruleset *rs = atomic_load(&e->rs);
	uint32_t gen = rs->gen;
	char err[512] = "";

	CHECK(step(e));
	CHECK_EQ(rw_engine_table_edit(e, "bad", "10.0.0.0/24", true, &res, err, sizeof(err)), 0);
	CHECK_EQ(res.nrules, 2u);
	CHECK_EQ(res.gen, gen); /* in place: no new generation */
	CHECK(!step(e));
	CHECK_EQ(classify_from(e, 0x0a000001), 0);
	/* a longer "!" entry punches a hole; re-adding re-flags, not duplicates */
	CHECK_EQ(rw_engine_table_edit(e, "<bad>", "!10.0.0.1", true, &res, err, sizeof(err)), 0);
	CHECK_EQ(classify_from(e, 0x0a000001), 1);
	CHECK_EQ(classify_from(e, 0x0a000003), 0);
	CHECK_EQ(rw_engine_table_edit(e, "bad", "10.0.0.1", true, &res, err, sizeof(err)), 0);
	CHECK_EQ(res.nrules, 3u);
	CHECK_EQ(classify_from(e, 0x0a000001), 0);
	CHECK_EQ(rw_engine_table_edit(e, "bad", "10.0.0.1/32", false, &res, err, sizeof(err)), 0);
	CHECK_EQ(rw_engine_table_edit(e, "bad", "10.0.0.0/24", false, &res, err, sizeof(err)), 0);
	CHECK_EQ(res.nrules, 1u);
	rs = atomic_load(&e->rs);
	CHECK_EQ(rs->cfg.tables[0].nentries, 1u);
	CHECK(step(e));
	CHECK_EQ(classify_from(e, 0xc0000201), 0);
	stop(e);
}

TEST(bad_edits_change_nothing)
{
	static const uint16_t ids[NPKT] = {1};
	struct rw_engine *e = start("pass in on a proto icmp\n", ids);
	struct rw_edit_result res = {0};
	const struct rw_ruleset *rs = atomic_load(&e->rs);
	uint32_t gen = rs->gen;
	char err[512] = "";

	CHECK_EQ(rw_engine_rule_insert(e, 0, "pass in on nosuch all", &res, err, sizeof(err)),
		 -EINVAL);
	CHECK(!strncmp(err, "<ctl>:1:12: unknown port 'nosuch'", 33));
	CHECK(rw_engine_rule_insert(e, 0, "block from <nosuch>", &res, err, sizeof(err)) < 0);
	CHECK(strstr(err, "<ctl>:1:") == err);
	CHECK(rw_engine_rule_insert(e, 0, "set workers 2", &res, err, sizeof(err)) < 0);
	CHECK(rw_engine_rule_insert(e, 0, "", &res, err, sizeof(err)) < 0);
	CHECK(rw_engine_rule_insert(e, 0, "pass proto tcp from ::1 to 10.0.0.1", &res, err,
				    sizeof(err)) < 0);
	CHECK_EQ(rw_engine_rule_insert(e, 5, "pass all", &res, err, sizeof(err)), -ERANGE);
	CHECK_EQ(rw_engine_rule_remove(e, 1, &res, err, sizeof(err)), -ERANGE);
	CHECK_EQ(rw_engine_table_edit(e, "nosuch", "10.0.0.1", true, &res, err, sizeof(err)),
		 -ENOENT);
	CHECK_EQ(rw_engine_table_edit(e, "bad", "10.0.0.1/8", true, &res, err, sizeof(err)),
		 -EINVAL);
	CHECK_EQ(rw_engine_table_edit(e, "bad", "banana", true, &res, err, sizeof(err)), -EINVAL);
	CHECK_EQ(rw_engine_table_edit(e, "bad", "10.0.0.9", false, &res, err, sizeof(err)),
		 -ENOENT);
	rs = atomic_load(&e->rs);
	CHECK_EQ(rs->gen, gen);
	CHECK_EQ(rs->cfg.nrules, 1u);
	CHECK_EQ(rs->cfg.tables[0].nentries, 1u);
	CHECK(step(e));
	/* appending, then a reload: the file's rules again, edits gone */
	CHECK_EQ(rw_engine_rule_insert(e, RW_EDIT_APPEND, "block in log on a inet proto icmp "
				       "from { 10.0.0.1 10.0.0.2 10.0.0.3 10.0.0.4 10.0.0.5 } "
				       "to any icmp-type echoreq", &res, err, sizeof(err)), 0);
	CHECK_EQ(res.pos, 1u);
	stop(e);
}

TEST(arp_rules_follow_edits)
{
	static const uint16_t ids[NPKT] = {1};
	struct rw_engine *e = start("pass in on a proto icmp\n", ids);
	struct rw_edit_result res = {0};
	const struct rw_ruleset *rs;
	char err[512] = "";

	CHECK_EQ(rw_engine_rule_insert(e, 0, "pass on b arp", &res, err, sizeof(err)), 0);
	rs = atomic_load(&e->rs);
	CHECK_EQ(rs->narp, 1u);
	CHECK_EQ(rs->arp_rules[0], 0u);
	CHECK_EQ(rw_engine_rule_insert(e, 0, "block in on b proto tcp", &res, err, sizeof(err)), 0);
	rs = atomic_load(&e->rs);
	CHECK_EQ(rs->arp_rules[0], 1u);
	CHECK_EQ(rw_engine_rule_remove(e, 1, &res, err, sizeof(err)), 0);
	rs = atomic_load(&e->rs);
	CHECK_EQ(rs->narp, 0u);
	stop(e);
}
