/* arch/vec8.h - the 8-lane AVX2 twin of vec4.h's vocabulary (x86-64 only), for the element-wise math that
 * ecmath.h writes once for every width (expf, tanhf): the same IEEE operation in each lane as SSE2's, so the same
 * bits. Every function carries the AVX2 target and may only run where kern_cpu_has_avx2() said yes. */
#ifndef EFICHAT_ARCH_VEC8_H
#define EFICHAT_ARCH_VEC8_H

#if defined(__x86_64__)
#define EC_V8 EC_TARGET_AVX2 EC_INLINE

typedef __m256 v8f;
typedef __m256i v8i;

EC_V8 v8f v8f_set1(float a) { return _mm256_set1_ps(a); }
EC_V8 v8f v8f_load(const float *p) { return _mm256_loadu_ps(p); }
EC_V8 void v8f_store(float *p, v8f a) { _mm256_storeu_ps(p, a); }
EC_V8 v8f v8f_add(v8f a, v8f b) { return _mm256_add_ps(a, b); }
EC_V8 v8f v8f_sub(v8f a, v8f b) { return _mm256_sub_ps(a, b); }
EC_V8 v8f v8f_mul(v8f a, v8f b) { return _mm256_mul_ps(a, b); }
EC_V8 v8f v8f_div(v8f a, v8f b) { return _mm256_div_ps(a, b); }
EC_V8 v8f v8f_min(v8f a, v8f b) { return _mm256_min_ps(a, b); } /* SSE's rule: b when either is NaN */
EC_V8 v8f v8f_max(v8f a, v8f b) { return _mm256_max_ps(a, b); }
EC_V8 v8f v8f_lt(v8f a, v8f b) { return _mm256_cmp_ps(a, b, _CMP_LT_OS); } /* cmpltps */
EC_V8 v8f v8f_gt(v8f a, v8f b) { return _mm256_cmp_ps(b, a, _CMP_LT_OS); } /* cmpgtps is cmpltps, swapped */
EC_V8 v8f v8f_isnan(v8f a) { return _mm256_cmp_ps(a, a, _CMP_UNORD_Q); }
EC_V8 v8f v8f_and(v8f a, v8f b) { return _mm256_and_ps(a, b); }
EC_V8 v8f v8f_or(v8f a, v8f b) { return _mm256_or_ps(a, b); }
EC_V8 v8f v8f_andnot(v8f a, v8f b) { return _mm256_andnot_ps(a, b); } /* ~a & b */

EC_V8 v8i v8i_set1(int32_t a) { return _mm256_set1_epi32(a); }
EC_V8 v8i v8i_add(v8i a, v8i b) { return _mm256_add_epi32(a, b); }
EC_V8 v8i v8i_sub(v8i a, v8i b) { return _mm256_sub_epi32(a, b); }
#define v8i_sra(a, n) _mm256_srai_epi32((a), (n))
#define v8i_sll(a, n) _mm256_slli_epi32((a), (n))
EC_V8 v8f v8i_as_v8f(v8i a) { return _mm256_castsi256_ps(a); }
EC_V8 v8f v8i_to_v8f(v8i a) { return _mm256_cvtepi32_ps(a); }
EC_V8 v8i v8f_round_s32(v8f a) { return _mm256_cvtps_epi32(a); } /* nearest even; NaN, overflow: INT32_MIN */

#endif
#endif
