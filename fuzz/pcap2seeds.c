/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * Seeds for fuzz_parse: every frame of the given captures, converted to
 * Ethernet (rw_linktype_to_eth), one file per distinct frame in OUTDIR.
 * `fuzz_parse -merge=1 corpus OUTDIR` then keeps the ones that add coverage.
 *
 *   pcap2seeds OUTDIR FILE...
 */
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <string.h>
#include "pkt/pkt.h"

static uint64_t fnv1a(const uint8_t *b, uint32_t n)
{
	uint64_t h = 0xcbf29ce484222325ull;

	while (n--)
		h = (h ^ *b++) * 0x100000001b3ull;
	return h;
}

static unsigned one_file(const char *dir, const char *path)
{
	static uint8_t buf[70000];
	char err[PCAP_ERRBUF_SIZE], out[4096];
	struct pcap_pkthdr *h;
	const u_char *d;
	unsigned written = 0;
	pcap_t *pc = pcap_open_offline(path, err);
	int dlt, n;

	if (!pc)
		return 0;
	dlt = pcap_datalink(pc);
	while (pcap_next_ex(pc, &h, &d) == 1) {
		FILE *fp;

		n = rw_linktype_to_eth(dlt, d, h->caplen, buf, sizeof(buf));
		if (n == -EPROTONOSUPPORT)
			break;
		if (n < 0)
			continue;
		snprintf(out, sizeof(out), "%s/%016llx", dir,
			 (unsigned long long)fnv1a(buf, (uint32_t)n));
		fp = fopen(out, "wb");
		if (!fp)
			continue;
		written += fwrite(buf, 1, (size_t)n, fp) == (size_t)n;
		fclose(fp);
	}
	pcap_close(pc);
	return written;
}

int main(int argc, char **argv)
{
	unsigned total = 0;

	if (argc < 3) {
		fprintf(stderr, "usage: %s OUTDIR FILE...\n", argv[0]);
		return 2;
	}
	for (int i = 2; i < argc; i++)
		total += one_file(argv[1], argv[i]);
	printf("%u frames written to %s\n", total, argv[1]);
	return 0;
}
