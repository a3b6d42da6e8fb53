/* arch/vec16.h - the 16-lane AVX-512 twin of vec8.h (x86-64 only), for the exponentials of the Q8 kernel's softmax
 * beside its VNNI path: the same IEEE operation in each lane as SSE2's and AVX2's, so the same bits. Compares give
 * all-ones lanes as SSE does (from AVX-512's mask registers). Every function carries the AVX-512F target and may
 * only run where q8_path_available(Q8_PATH_VNNI) said yes. */
#ifndef EFICHAT_ARCH_VEC16_H
#define EFICHAT_ARCH_VEC16_H

#if defined(__x86_64__)
#define EC_TARGET_AVX512 __attribute__((target("avx512f")))
#define EC_TARGET_VNNI __attribute__((target("avx512f,avx512bw,avx512vnni"))) /* the Q8 kernel's VNNI path */
#define EC_V16 EC_TARGET_AVX512 EC_INLINE

/* The first min(n, 16) lanes (none for n <= 0): the mask of a loop's ragged end. */
EC_V16 __mmask16 v16_first(int n) { return n >= 16 ? (__mmask16)0xFFFF : n <= 0 ? 0 : (__mmask16)((1u << n) - 1); }

typedef __m512 v16f;
typedef __m512i v16i;

EC_V16 v16f v16f_set1(float a) { return _mm512_set1_ps(a); }
EC_V16 v16f v16f_load(const float *p) { return _mm512_loadu_ps(p); }
EC_V16 void v16f_store(float *p, v16f a) { _mm512_storeu_ps(p, a); }
EC_V16 v16f v16f_add(v16f a, v16f b) { return _mm512_add_ps(a, b); }
EC_V16 v16f v16f_sub(v16f a, v16f b) { return _mm512_sub_ps(a, b); }
EC_V16 v16f v16f_mul(v16f a, v16f b) { return _mm512_mul_ps(a, b); }
EC_V16 v16f v16f_div(v16f a, v16f b) { return _mm512_div_ps(a, b); }
EC_V16 v16f v16f_min(v16f a, v16f b) { return _mm512_min_ps(a, b); } /* SSE's rule: b when either is NaN */
EC_V16 v16f v16f_max(v16f a, v16f b) { return _mm512_max_ps(a, b); }
EC_V16 v16f v16f_lanes(__mmask16 k) { return _mm512_castsi512_ps(_mm512_maskz_mov_epi32(k, _mm512_set1_epi32(-1))); }
EC_V16 v16f v16f_lt(v16f a, v16f b) { return v16f_lanes(_mm512_cmp_ps_mask(a, b, _CMP_LT_OS)); }
EC_V16 v16f v16f_gt(v16f a, v16f b) { return v16f_lanes(_mm512_cmp_ps_mask(b, a, _CMP_LT_OS)); }
EC_V16 v16f v16f_isnan(v16f a) { return v16f_lanes(_mm512_cmp_ps_mask(a, a, _CMP_UNORD_Q)); }
#define V16_BITS(op, a, b) _mm512_castsi512_ps(op(_mm512_castps_si512(a), _mm512_castps_si512(b)))
EC_V16 v16f v16f_and(v16f a, v16f b) { return V16_BITS(_mm512_and_si512, a, b); }
EC_V16 v16f v16f_or(v16f a, v16f b) { return V16_BITS(_mm512_or_si512, a, b); }
EC_V16 v16f v16f_andnot(v16f a, v16f b) { return V16_BITS(_mm512_andnot_si512, a, b); } /* ~a & b */
#undef V16_BITS

EC_V16 v16i v16i_set1(int32_t a) { return _mm512_set1_epi32(a); }
EC_V16 v16i v16i_add(v16i a, v16i b) { return _mm512_add_epi32(a, b); }
EC_V16 v16i v16i_sub(v16i a, v16i b) { return _mm512_sub_epi32(a, b); }
#define v16i_sra(a, n) _mm512_srai_epi32((a), (n))
#define v16i_sll(a, n) _mm512_slli_epi32((a), (n))
EC_V16 v16f v16i_as_v16f(v16i a) { return _mm512_castsi512_ps(a); }
EC_V16 v16f v16i_to_v16f(v16i a) { return _mm512_cvtepi32_ps(a); }
EC_V16 v16i v16f_round_s32(v16f a) { return _mm512_cvtps_epi32(a); } /* nearest even; NaN, overflow: INT32_MIN */

#endif
#endif
