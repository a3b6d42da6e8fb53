/* test_q8att - the Q8 kernel's integer attention (q8.h, q8_attend): every path (SSE2 or plain C, AVX2 where it runs)
 * gives the bits of q8.h's definition written out plainly here (its integer sums in int64, so an int32 overflow in a
 * path would show), for head sizes with and without vector tails and lengths 1..70 and 700 (where the weights'
 * integer range shrinks); the result stays close to exact attention computed in double; a NaN in a key, a value or
 * the query makes the whole output NaN. Also the Q8 kernel's table GELU (model.h) against GELU's tanh form in double. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "kernels.h"
#include "model.h"
#include "q8.h"

static uint64_t rng = 0x2545F4914F6CDD1Dull;
static float frand(float a)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return ((float)(rng >> 40) / (float)(1u << 24) * 2.0f - 1.0f) * a;
}

typedef struct {
    int T, hs;
    float *kf, *vf, *q; /* (T, hs) floats, (hs) */
    int32_t *k, *v;     /* the cache: k transposed (hs, T), v (T, hs) */
    float *ks, *vs;
} Case;

static void fill(Case *c, int T, int hs, float kamp)
{
    c->T = T, c->hs = hs;
    c->kf = malloc(sizeof(float) * T * hs), c->vf = malloc(sizeof(float) * T * hs), c->q = malloc(sizeof(float) * hs);
    c->k = malloc(sizeof(int32_t) * T * hs), c->v = malloc(sizeof(int32_t) * T * hs);
    c->ks = malloc(sizeof(float) * T), c->vs = malloc(sizeof(float) * T);
    for (int i = 0; i < T * hs; i++)
        c->kf[i] = frand(kamp), c->vf[i] = frand(1.0f);
    for (int d = 0; d < hs; d++)
        c->q[d] = frand(2.0f);
    for (int t = 0; t < T; t++) {
        c->ks[t] = q8_quantize_head(c->k + t, (size_t)T, c->kf + (size_t)t * hs, hs);
        c->vs[t] = q8_quantize_head(c->v + (size_t)t * hs, 1, c->vf + (size_t)t * hs, hs);
    }
}

static void drop(Case *c)
{
    free(c->kf), free(c->vf), free(c->q), free(c->k), free(c->v), free(c->ks), free(c->vs);
}

/* q8.h's definition, step by step (lrintf: nearest, ties to even, as the paths round). */
static void reference(float *out, const Case *c, int len, float scale)
{
    int hs = c->hs;
    int32_t q8[512];
    float m = 0.0f;
    for (int d = 0; d < hs; d++)
        m = fabsf(c->q[d]) > m ? fabsf(c->q[d]) : m;
    float inv = 127.0f / m, sq = m / 127.0f, qs = sq * scale;
    for (int d = 0; d < hs; d++)
        q8[d] = (int32_t)lrintf(c->q[d] * inv);
    float *s = malloc(sizeof(float) * (len + 8));
    for (int t = 0; t < len; t++) {
        int64_t acc = 0;
        for (int d = 0; d < hs; d++)
            acc += (int64_t)q8[d] * c->k[(size_t)d * c->T + t];
        s[t] = (float)acc * c->ks[t] * qs;
    }
    float z = kern_softmax_exp(s, len, 0), W = 0.0f;
    for (int t = 0; t < len; t++) {
        s[t] = s[t] * c->vs[t];
        W = s[t] > W ? s[t] : W;
    }
    int64_t wmax = (int64_t)len * 127 * 32767 <= 2147483647 ? 32767 : 2147483647 / ((int64_t)len * 127);
    float winv = (float)wmax / W, f = W / (float)wmax / z;
    for (int d = 0; d < hs; d++) {
        int64_t acc = 0;
        for (int t = 0; t < len; t++)
            acc += (int64_t)lrintf(s[t] * winv) * c->v[(size_t)t * hs + d];
        out[d] = (float)acc * f;
    }
    free(s);
}

/* Exact attention on the unquantised floats, in double. */
static void exact(double *out, const Case *c, int len, float scale)
{
    double *p = malloc(sizeof(double) * len), mx = -1e300, z = 0;
    for (int t = 0; t < len; t++) {
        double a = 0;
        for (int d = 0; d < c->hs; d++)
            a += (double)c->q[d] * c->kf[(size_t)t * c->hs + d];
        p[t] = a * scale;
        mx = p[t] > mx ? p[t] : mx;
    }
    for (int t = 0; t < len; t++)
        z += p[t] = exp(p[t] - mx);
    for (int d = 0; d < c->hs; d++) {
        double a = 0;
        for (int t = 0; t < len; t++)
            a += p[t] * c->vf[(size_t)t * c->hs + d];
        out[d] = a / z;
    }
    free(p);
}

static void run(float *out, const Case *c, int len, float scale, int avx2)
{
    Q8Head h = {c->k, c->v, c->ks, c->vs, (size_t)c->T, (size_t)c->hs};
    void *scratch = aligned_alloc(64, (q8_attend_scratch_bytes((uint32_t)c->T, (uint32_t)c->hs) + 63) & ~(size_t)63);
    q8_attend(out, c->q, &h, c->hs, len, scale, scratch, avx2);
    free(scratch);
}

/* A model_quantize has filled the table: a one-layer random model, quantised. */
static void gelu_cases(void)
{
    ModelConfig cfg = {0};
    cfg.dim = 8, cfg.hidden = 8, cfg.layers = 1, cfg.heads = 1, cfg.ctx = 4;
    Model m = {0};
    m.cfg = cfg;
    static float w[MF_VOCAB * 8 * 2]; /* big enough for every tensor of this shape (the head: 256 x 8) */
    for (int i = 0; i < MF_TENSOR_COUNT; i++) {
        m.wt.w[i] = w;
        m.wt.w_stride[i] = 0;
    }
    void *mem = malloc(model_q8_bytes(&m.cfg));
    check_case(model_quantize(&m, mem), "gelu_q8_model_quantized", "model_quantize refused");
    enum { N = 40001 };
    static float x[N], y[N];
    for (int i = 0; i < N; i++)
        x[i] = y[i] = -10.0f + 20.0f * (float)i / (float)(N - 1);
    model_gelu_q8(y, N);
    double worst = 0;
    for (int i = 0; i < N; i++) {
        double t = x[i], g = 0.5 * t * (1.0 + tanh(0.7978845608028654 * (t + 0.044715 * t * t * t)));
        double e = fabs(y[i] - g);
        worst = e > worst ? e : worst;
    }
    check_case(worst <= 0.0013, "gelu_q8_near_tanh_gelu", "largest error %.6f on [-10, 10] (limit 0.0013)", worst);
#if defined(__x86_64__)
    for (int wide = 0; wide < 2; wide++) { /* the 16- and 8-lane forms: the same bits, edges and ragged tails */
        if (!q8_path_available(wide ? Q8_PATH_VNNI : Q8_PATH_AVX2))
            continue;
        enum { M = N + 7 };
        static float a[M], b[M];
        const float edge[7] = {INFINITY, -INFINITY, NAN, 8.0f, -8.0f, -9.0f, 9.5f};
        for (int i = 0; i < M; i++)
            a[i] = b[i] = i < N ? x[i] * 1.0001f : edge[i - N];
        a[3] = b[3] = -3.4e38f, a[4] = b[4] = 3.4e38f;
        model_gelu_q8(a, M);
        (wide ? model_gelu_q8_avx512 : model_gelu_q8_avx2)(b, M);
        int same = 1;
        for (int i = 0; i < M; i++)
            same &= memcmp(&a[i], &b[i], sizeof(float)) == 0 || (isnan(a[i]) && isnan(b[i]));
        check_case(same, wide ? "gelu_q8_avx512_equals_gelu_q8" : "gelu_q8_avx2_equals_gelu_q8",
                   "the %s-lane form differs", wide ? "16" : "8");
    }
#endif
    float odd[5] = {INFINITY, -INFINITY, NAN, 8.0f, -8.0f};
    model_gelu_q8(odd, 5);
    check_case(odd[0] == INFINITY && isnan(odd[1]) && isnan(odd[2]) && odd[3] == 8.0f && fabsf(odd[4]) < 1e-6f,
               "gelu_q8_edges", "inf %g, -inf %g, nan %g, 8 %g, -8 %g", odd[0], odd[1], odd[2], odd[3], odd[4]);
    free(mem);
}

int main(void)
{
    int has[Q8_ATT_COUNT] = {1};
#if defined(__x86_64__)
    has[Q8_ATT_AVX2] = has[Q8_ATT_AVX2W] = kern_cpu_has_avx2();
    has[Q8_ATT_VNNI] = kern_cpu_has_avx2() && q8_path_available(Q8_PATH_VNNI);
#endif
    static const char *const level_name[Q8_ATT_COUNT] = {"base", "avx2", "vnni", "avx2w"};
    const int shapes[][2] = {{70, 64}, {70, 12}, {70, 40}, {700, 64}};
    for (int si = 0; si < 4; si++) {
        Case c;
        int T = shapes[si][0], hs = shapes[si][1];
        fill(&c, T, hs, 1.5f);
        float scale = 1.0f / sqrtf((float)hs);
        float out[512], ref[512];
        double ex[512];
        for (int avx2 = 0; avx2 < Q8_ATT_COUNT; avx2++) {
            if (!has[avx2])
                continue;
            int off = -1, far = -1;
            double worst = 0;
            for (int len = 1; len <= T; len += len < 70 ? 1 : 313) {
                run(out, &c, len, scale, avx2);
                reference(ref, &c, len, scale);
                exact(ex, &c, len, scale);
                if (memcmp(out, ref, sizeof(float) * hs))
                    off = len;
                for (int d = 0; d < hs; d++) {
                    double e = fabs(out[d] - ex[d]);
                    worst = e > worst ? e : worst;
                }
            }
            /* values in (-1, 1): the int8 keys and values and the 15-bit weights keep the output within 0.015
             * (0.004-0.005 seen) */
            far = worst > 0.015;
            char name[96];
            snprintf(name, sizeof name, "q8_attend_equals_definition_T%d_hs%d_%s", T, hs, level_name[avx2]);
            check_case(off < 0, name, "length %d differs", off);
            snprintf(name, sizeof name, "q8_attend_near_exact_T%d_hs%d_%s", T, hs, level_name[avx2]);
            check_case(!far, name, "largest error %.4f (limit 0.015)", worst);
        }
        drop(&c);
    }

    /* a NaN anywhere the query reaches: every output NaN */
    for (int where = 0; where < 3; where++) {
        Case c;
        fill(&c, 20, 16, 1.0f);
        if (where == 0)
            c.q[3] = NAN;
        else if (where == 1)
            c.ks[7] = q8_quantize_head(c.k + 7, 20, (float[16]){[5] = NAN}, 16);
        else
            c.vs[11] = q8_quantize_head(c.v + 11 * 16, 1, (float[16]){[0] = INFINITY}, 16);
        float out[16];
        for (int avx2 = 0; avx2 < Q8_ATT_COUNT; avx2++) {
            if (!has[avx2])
                continue;
            run(out, &c, 20, 0.25f, avx2);
            int all = 1;
            for (int d = 0; d < 16; d++)
                all &= isnan(out[d]) != 0;
            char name[64];
            const char *what = where == 0 ? "query" : where == 1 ? "key" : "value";
            snprintf(name, sizeof name, "q8_attend_nan_%s_gives_nan_%s", what, level_name[avx2]);
            check_case(all, name, "some output finite");
        }
        drop(&c);
    }
    gelu_cases();
    return check_exit();
}
