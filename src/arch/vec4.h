/* arch/vec4.h - the core's 4-lane float and int32 vector vocabulary: SSE2 on x86-64, NEON on AArch64.
 * Every operation gives the same bits on both: element-wise IEEE arithmetic (never fused: the core is compiled with
 * -ffp-contract=off and no vfma/vmla form appears here), min/max and float->int conversion with x86's exact rules.
 * Included by platform.h only; no libc, no UEFI. Only a NaN's payload can differ (x86's default NaN is negative). */
#ifndef EFICHAT_ARCH_VEC4_H
#define EFICHAT_ARCH_VEC4_H

#if defined(__x86_64__)

typedef __m128 v4f;  /* 4 x float */
typedef __m128i v4i; /* 4 x int32 */

EC_INLINE v4f v4f_zero(void) { return _mm_setzero_ps(); }
EC_INLINE v4f v4f_set1(float a) { return _mm_set1_ps(a); }
EC_INLINE v4f v4f_load(const float *p) { return _mm_loadu_ps(p); }
EC_INLINE void v4f_store(float *p, v4f a) { _mm_storeu_ps(p, a); }
EC_INLINE float v4f_lane0(v4f a) { return _mm_cvtss_f32(a); }
EC_INLINE v4f v4f_add(v4f a, v4f b) { return _mm_add_ps(a, b); }
EC_INLINE v4f v4f_sub(v4f a, v4f b) { return _mm_sub_ps(a, b); }
EC_INLINE v4f v4f_mul(v4f a, v4f b) { return _mm_mul_ps(a, b); }
EC_INLINE v4f v4f_div(v4f a, v4f b) { return _mm_div_ps(a, b); }
EC_INLINE v4f v4f_min(v4f a, v4f b) { return _mm_min_ps(a, b); } /* a < b ? a : b (so b when either is NaN) */
EC_INLINE v4f v4f_max(v4f a, v4f b) { return _mm_max_ps(a, b); } /* a > b ? a : b */
/* Comparisons give all-ones/all-zero lanes, kept as v4f masks as SSE does. */
EC_INLINE v4f v4f_lt(v4f a, v4f b) { return _mm_cmplt_ps(a, b); }
EC_INLINE v4f v4f_gt(v4f a, v4f b) { return _mm_cmpgt_ps(a, b); }
EC_INLINE v4f v4f_isnan(v4f a) { return _mm_cmpunord_ps(a, a); }
EC_INLINE v4f v4f_and(v4f a, v4f b) { return _mm_and_ps(a, b); }
EC_INLINE v4f v4f_or(v4f a, v4f b) { return _mm_or_ps(a, b); }
EC_INLINE v4f v4f_andnot(v4f a, v4f b) { return _mm_andnot_ps(a, b); } /* ~a & b */
EC_INLINE v4f v4f_xor(v4f a, v4f b) { return _mm_xor_ps(a, b); }
/* (t0 + t2) + (t1 + t3) */
EC_INLINE float v4f_hsum(v4f t)
{
    __m128 u = _mm_add_ps(t, _mm_movehl_ps(t, t));
    return _mm_cvtss_f32(_mm_add_ss(u, _mm_shuffle_ps(u, u, 1)));
}
EC_INLINE float ec_sqrt1(float x) { return _mm_cvtss_f32(_mm_sqrt_ss(_mm_set_ss(x))); }

EC_INLINE v4i v4i_set1(int32_t a) { return _mm_set1_epi32(a); }
EC_INLINE v4i v4i_load(const int32_t *p) { return _mm_loadu_si128((const __m128i *)(const void *)p); }
EC_INLINE void v4i_store(int32_t *p, v4i a) { _mm_storeu_si128((__m128i *)(void *)p, a); }
EC_INLINE v4i v4i_add(v4i a, v4i b) { return _mm_add_epi32(a, b); }
EC_INLINE v4i v4i_sub(v4i a, v4i b) { return _mm_sub_epi32(a, b); }
#define v4i_sra(a, n) _mm_srai_epi32((a), (n))
#define v4i_sll(a, n) _mm_slli_epi32((a), (n))
EC_INLINE v4f v4i_as_v4f(v4i a) { return _mm_castsi128_ps(a); }
EC_INLINE v4f v4i_to_v4f(v4i a) { return _mm_cvtepi32_ps(a); }
/* Round to nearest, ties to even (the MXCSR default); NaN and |a| >= 2^31 give INT32_MIN. */
EC_INLINE v4i v4f_round_s32(v4f a) { return _mm_cvtps_epi32(a); }
EC_INLINE int32_t ec_round_s32(float a) { return _mm_cvtss_si32(_mm_set_ss(a)); }
/* double to int64, the same rounding; NaN and |a| >= 2^63 give INT64_MIN. */
EC_INLINE int64_t ec_round_s64(double a) { return _mm_cvtsd_si64(_mm_set_sd(a)); }

#elif defined(__aarch64__)

typedef float32x4_t v4f;
typedef int32x4_t v4i;

EC_INLINE v4f v4f_zero(void) { return vdupq_n_f32(0.0f); }
EC_INLINE v4f v4f_set1(float a) { return vdupq_n_f32(a); }
EC_INLINE v4f v4f_load(const float *p) { return vld1q_f32(p); }
EC_INLINE void v4f_store(float *p, v4f a) { vst1q_f32(p, a); }
EC_INLINE float v4f_lane0(v4f a) { return vgetq_lane_f32(a, 0); }
EC_INLINE v4f v4f_add(v4f a, v4f b) { return vaddq_f32(a, b); }
EC_INLINE v4f v4f_sub(v4f a, v4f b) { return vsubq_f32(a, b); }
EC_INLINE v4f v4f_mul(v4f a, v4f b) { return vmulq_f32(a, b); }
EC_INLINE v4f v4f_div(v4f a, v4f b) { return vdivq_f32(a, b); }
/* Not vminq/vmaxq (NaN if either is NaN) nor vminnmq (the number): SSE's "a < b ? a : b", -0/+0 order included. */
EC_INLINE v4f v4f_min(v4f a, v4f b) { return vbslq_f32(vcltq_f32(a, b), a, b); }
EC_INLINE v4f v4f_max(v4f a, v4f b) { return vbslq_f32(vcgtq_f32(a, b), a, b); }
EC_INLINE v4f v4f_lt(v4f a, v4f b) { return vreinterpretq_f32_u32(vcltq_f32(a, b)); }
EC_INLINE v4f v4f_gt(v4f a, v4f b) { return vreinterpretq_f32_u32(vcgtq_f32(a, b)); }
EC_INLINE v4f v4f_isnan(v4f a) { return vreinterpretq_f32_u32(vmvnq_u32(vceqq_f32(a, a))); }
EC_INLINE v4f v4f_and(v4f a, v4f b)
{
    return vreinterpretq_f32_u32(vandq_u32(vreinterpretq_u32_f32(a), vreinterpretq_u32_f32(b)));
}
EC_INLINE v4f v4f_or(v4f a, v4f b)
{
    return vreinterpretq_f32_u32(vorrq_u32(vreinterpretq_u32_f32(a), vreinterpretq_u32_f32(b)));
}
EC_INLINE v4f v4f_andnot(v4f a, v4f b) /* ~a & b */
{
    return vreinterpretq_f32_u32(vbicq_u32(vreinterpretq_u32_f32(b), vreinterpretq_u32_f32(a)));
}
EC_INLINE v4f v4f_xor(v4f a, v4f b)
{
    return vreinterpretq_f32_u32(veorq_u32(vreinterpretq_u32_f32(a), vreinterpretq_u32_f32(b)));
}
/* (t0 + t2) + (t1 + t3), as the SSE2 shuffle sequence adds them; FADDP keeps lane 0 as the first operand, which
 * only matters for which NaN comes out (C's '+' lets the compiler swap them). */
EC_INLINE float v4f_hsum(v4f t)
{
    return vpadds_f32(vadd_f32(vget_low_f32(t), vget_high_f32(t)));
}
EC_INLINE float ec_sqrt1(float x) { return vgetq_lane_f32(vsqrtq_f32(vdupq_n_f32(x)), 0); }

EC_INLINE v4i v4i_set1(int32_t a) { return vdupq_n_s32(a); }
EC_INLINE v4i v4i_load(const int32_t *p) { return vld1q_s32(p); }
EC_INLINE void v4i_store(int32_t *p, v4i a) { vst1q_s32(p, a); }
EC_INLINE v4i v4i_add(v4i a, v4i b) { return vaddq_s32(a, b); }
EC_INLINE v4i v4i_sub(v4i a, v4i b) { return vsubq_s32(a, b); }
#define v4i_sra(a, n) vshrq_n_s32((a), (n))
#define v4i_sll(a, n) vshlq_n_s32((a), (n))
EC_INLINE v4f v4i_as_v4f(v4i a) { return vreinterpretq_f32_s32(a); }
EC_INLINE v4f v4i_to_v4f(v4i a) { return vcvtq_f32_s32(a); }
/* FCVTNS rounds to nearest even like cvtps2dq but saturates out of range (and gives 0 for NaN): give those lanes
 * x86's "integer indefinite" INT32_MIN instead. -2^31 itself converts exactly to INT32_MIN on both. */
EC_INLINE v4i v4f_round_s32(v4f a)
{
    uint32x4_t in_range = vcaltq_f32(a, vdupq_n_f32(2147483648.0f)); /* |a| < 2^31, false for NaN */
    return vbslq_s32(in_range, vcvtnq_s32_f32(a), vdupq_n_s32(INT32_MIN));
}
EC_INLINE int32_t ec_round_s32(float a) { return vgetq_lane_s32(v4f_round_s32(vdupq_n_f32(a)), 0); }
EC_INLINE int64_t ec_round_s64(double a) /* FCVTNS (ties to even), x86's INT64_MIN out of range and for NaN */
{
    double m = a < 0 ? -a : a;
    return m < 9223372036854775808.0 ? vcvtnd_s64_f64(a) : INT64_MIN;
}

#else
#error "efichat's core has vector code for x86-64 (SSE2) and AArch64 (NEON) only"
#endif

#endif
