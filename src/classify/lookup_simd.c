/* SPDX-License-Identifier: BSD-2-Clause */
/*
 * The vectorised stage of the IPv4 lookup: hashing a burst of keys under one
 * table's masks, 8 (AVX2) or 16 (AVX-512) keys per instruction. Compiled with
 * target attributes so that the file builds for any x86-64 and the caller
 * picks the path at run time (tss_isa_select); on other CPUs the scalar
 * path is the only one. Results are bit-identical to tss_hash4().
 */
#include "tss.h"

#include <stdlib.h>
#include <string.h>

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#include <immintrin.h>
#define TSS_HAVE_X86 1
#endif

#ifdef TSS_HAVE_X86
__attribute__((target("avx2"))) static inline __m256i hash8(__m256i s, __m256i d, __m256i p,
							    __m256i pr)
{
	__m256i h = _mm256_mullo_epi32(s, _mm256_set1_epi32((int)TSS_H1));

	h = _mm256_add_epi32(h, _mm256_mullo_epi32(d, _mm256_set1_epi32((int)TSS_H2)));
	h = _mm256_add_epi32(h, _mm256_mullo_epi32(p, _mm256_set1_epi32((int)TSS_H3)));
	h = _mm256_add_epi32(h, _mm256_mullo_epi32(pr, _mm256_set1_epi32((int)TSS_H4)));
	h = _mm256_xor_si256(h, _mm256_srli_epi32(h, 15));
	h = _mm256_mullo_epi32(h, _mm256_set1_epi32((int)TSS_H5));
	return _mm256_xor_si256(h, _mm256_srli_epi32(h, 13));
}

__attribute__((target("avx2"))) void
tss_hash4_burst_avx2(const struct tss_table *t, const uint32_t *s, const uint32_t *d,
		     const uint32_t *p, const uint32_t *pr, uint32_t *slot, unsigned n)
{
	const __m256i ms = _mm256_set1_epi32((int)t->smask[0]);
	const __m256i md = _mm256_set1_epi32((int)t->dmask[0]);
	const __m256i mp = _mm256_set1_epi32((int)t->pmask);
	const __m256i mpr = _mm256_set1_epi32((int)t->prmask);
	const __m128i sh = _mm_cvtsi32_si128((int)t->shift);
	unsigned i = 0;

	for (; i + 8 <= n; i += 8) {
		__m256i vs = _mm256_and_si256(_mm256_loadu_si256((const void *)(s + i)), ms);
		__m256i vd = _mm256_and_si256(_mm256_loadu_si256((const void *)(d + i)), md);
		__m256i vp = _mm256_and_si256(_mm256_loadu_si256((const void *)(p + i)), mp);
		__m256i vr = _mm256_and_si256(_mm256_loadu_si256((const void *)(pr + i)), mpr);

		_mm256_storeu_si256((void *)(slot + i),
				    _mm256_srl_epi32(hash8(vs, vd, vp, vr), sh));
	}
	if (i < n)
		tss_hash4_burst_scalar(t, s + i, d + i, p + i, pr + i, slot + i, n - i);
}

__attribute__((target("avx512f"))) void
tss_hash4_burst_avx512(const struct tss_table *t, const uint32_t *s, const uint32_t *d,
		       const uint32_t *p, const uint32_t *pr, uint32_t *slot, unsigned n)
{
	const __m512i ms = _mm512_set1_epi32((int)t->smask[0]);
	const __m512i md = _mm512_set1_epi32((int)t->dmask[0]);
	const __m512i mp = _mm512_set1_epi32((int)t->pmask);
	const __m512i mpr = _mm512_set1_epi32((int)t->prmask);
	const __m128i sh = _mm_cvtsi32_si128((int)t->shift);
	unsigned i = 0;

	/* Masked loads and stores: the tail needs no scalar loop. */
	for (; i < n; i += 16) {
		__mmask16 k = n - i >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - i)) - 1);
		__m512i vs = _mm512_and_si512(_mm512_maskz_loadu_epi32(k, s + i), ms);
		__m512i vd = _mm512_and_si512(_mm512_maskz_loadu_epi32(k, d + i), md);
		__m512i vp = _mm512_and_si512(_mm512_maskz_loadu_epi32(k, p + i), mp);
		__m512i vr = _mm512_and_si512(_mm512_maskz_loadu_epi32(k, pr + i), mpr);
		__m512i h = _mm512_mullo_epi32(vs, _mm512_set1_epi32((int)TSS_H1));

		h = _mm512_add_epi32(h, _mm512_mullo_epi32(vd, _mm512_set1_epi32((int)TSS_H2)));
		h = _mm512_add_epi32(h, _mm512_mullo_epi32(vp, _mm512_set1_epi32((int)TSS_H3)));
		h = _mm512_add_epi32(h, _mm512_mullo_epi32(vr, _mm512_set1_epi32((int)TSS_H4)));
		h = _mm512_xor_si512(h, _mm512_srli_epi32(h, 15));
		h = _mm512_mullo_epi32(h, _mm512_set1_epi32((int)TSS_H5));
		h = _mm512_xor_si512(h, _mm512_srli_epi32(h, 13));
		_mm512_mask_storeu_epi32(slot + i, k, _mm512_srl_epi32(h, sh));
	}
}

static bool cpu_has(enum tss_isa isa)
{
	__builtin_cpu_init();
	if (isa == TSS_ISA_AVX512)
		return __builtin_cpu_supports("avx512f");
	if (isa == TSS_ISA_AVX2)
		return __builtin_cpu_supports("avx2");
	return true;
}
#else
/* Not x86-64: only the scalar path exists; these are never selected. */
void tss_hash4_burst_avx2(const struct tss_table *t, const uint32_t *s, const uint32_t *d,
			  const uint32_t *p, const uint32_t *pr, uint32_t *slot, unsigned n)
{
	tss_hash4_burst_scalar(t, s, d, p, pr, slot, n);
}

void tss_hash4_burst_avx512(const struct tss_table *t, const uint32_t *s, const uint32_t *d,
			    const uint32_t *p, const uint32_t *pr, uint32_t *slot, unsigned n)
{
	tss_hash4_burst_scalar(t, s, d, p, pr, slot, n);
}

static bool cpu_has(enum tss_isa isa)
{
	return isa == TSS_ISA_SCALAR;
}
#endif

static const char *const isa_names[] = {
	[TSS_ISA_SCALAR] = "scalar",
	[TSS_ISA_AVX2] = "avx2",
	[TSS_ISA_AVX512] = "avx512",
};

const char *tss_isa_name(enum tss_isa isa)
{
	return (unsigned)isa < RW_ARRAY_SIZE(isa_names) ? isa_names[isa] : "?";
}

enum tss_isa tss_isa_select(void)
{
	const char *want = getenv("RW_CLASSIFY_ISA");

	if (want) {
		for (int i = TSS_ISA_AVX512; i >= TSS_ISA_SCALAR; i--)
			if (!strcmp(want, isa_names[i]) && cpu_has((enum tss_isa)i))
				return (enum tss_isa)i;
	}
	if (cpu_has(TSS_ISA_AVX512))
		return TSS_ISA_AVX512;
	if (cpu_has(TSS_ISA_AVX2))
		return TSS_ISA_AVX2;
	return TSS_ISA_SCALAR;
}
