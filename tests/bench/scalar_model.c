/* scalar_model.c - the benchmark's baseline: the same model as src/model.c written the obvious way. */
#include "scalar_model.h"
#include <math.h>
#include <stdlib.h>
#include <string.h>

struct ScalarState {
    const Model *m;
    int pos;
    float *kc, *vc, *x, *xn, *qkv, *att, *tmp, *hid, *sc, logits[256];
};

ScalarState *scalar_new(const Model *m)
{
    const ModelConfig *c = &m->cfg;
    size_t C = c->dim, T = c->ctx, L = c->layers, H = c->hidden;
    ScalarState *s = calloc(1, sizeof *s);
    s->m = m;
    s->kc = calloc(L * T * C, 4);
    s->vc = calloc(L * T * C, 4);
    s->x = calloc(C, 4);
    s->xn = calloc(C, 4);
    s->qkv = calloc(3 * C, 4);
    s->att = calloc(C, 4);
    s->tmp = calloc(C, 4);
    s->hid = calloc(H, 4);
    s->sc = calloc(T, 4);
    return s;
}

void scalar_free(ScalarState *s)
{
    free(s->kc); free(s->vc); free(s->x); free(s->xn); free(s->qkv); free(s->att); free(s->tmp); free(s->hid);
    free(s->sc); free(s);
}

void scalar_reset(ScalarState *s) { s->pos = 0; }

static void matvec(float *out, const float *x, const float *w, const float *b, int I, int O)
{
    for (int o = 0; o < O; o++) {
        float acc = b ? b[o] : 0.0f;
        for (int i = 0; i < I; i++)
            acc += w[(size_t)o * I + i] * x[i];
        out[o] = acc;
    }
}

static void lnorm(float *out, const float *x, const float *w, const float *b, int C)
{
    float mean = 0, var = 0;
    for (int i = 0; i < C; i++) mean += x[i];
    mean /= C;
    for (int i = 0; i < C; i++) var += (x[i] - mean) * (x[i] - mean);
    var /= C;
    float r = 1.0f / sqrtf(var + 1e-5f);
    for (int i = 0; i < C; i++) out[i] = (x[i] - mean) * r * w[i] + b[i];
}

#define LW(t, l) (m->wt.w[t] + (size_t)(l) * m->wt.layer_stride)

const float *scalar_step(ScalarState *s, int token)
{
    const Model *m = s->m;
    const ModelConfig *c = &m->cfg;
    int C = c->dim, T = c->ctx, H = c->hidden, NH = c->heads, hs = C / NH, p = s->pos;
    for (int i = 0; i < C; i++)
        s->x[i] = m->wt.w[MF_WTE][token * C + i] + m->wt.w[MF_WPE][p * C + i];
    for (int l = 0; l < (int)c->layers; l++) {
        float *kc = s->kc + (size_t)l * T * C, *vc = s->vc + (size_t)l * T * C;
        lnorm(s->xn, s->x, LW(MF_LN1_W, l), LW(MF_LN1_B, l), C);
        matvec(s->qkv, s->xn, LW(MF_QKV_W, l), LW(MF_QKV_B, l), C, 3 * C);
        memcpy(kc + (size_t)p * C, s->qkv + C, C * 4);
        memcpy(vc + (size_t)p * C, s->qkv + 2 * C, C * 4);
        for (int h = 0; h < NH; h++) {
            float max = -INFINITY, sum = 0;
            for (int t = 0; t <= p; t++) {
                float d = 0;
                for (int j = 0; j < hs; j++)
                    d += s->qkv[h * hs + j] * kc[(size_t)t * C + h * hs + j];
                s->sc[t] = d / sqrtf((float)hs);
                max = s->sc[t] > max ? s->sc[t] : max;
            }
            for (int t = 0; t <= p; t++)
                sum += s->sc[t] = expf(s->sc[t] - max);
            for (int j = 0; j < hs; j++) {
                float a = 0;
                for (int t = 0; t <= p; t++)
                    a += s->sc[t] / sum * vc[(size_t)t * C + h * hs + j];
                s->att[h * hs + j] = a;
            }
        }
        matvec(s->tmp, s->att, LW(MF_PROJ_W, l), LW(MF_PROJ_B, l), C, C);
        for (int i = 0; i < C; i++) s->x[i] += s->tmp[i];
        lnorm(s->xn, s->x, LW(MF_LN2_W, l), LW(MF_LN2_B, l), C);
        matvec(s->hid, s->xn, LW(MF_FC_W, l), LW(MF_FC_B, l), C, H);
        for (int i = 0; i < H; i++) {
            float u = s->hid[i];
            s->hid[i] = 0.5f * u * (1.0f + tanhf(0.7978845608f * (u + 0.044715f * u * u * u)));
        }
        matvec(s->tmp, s->hid, LW(MF_FCPROJ_W, l), LW(MF_FCPROJ_B, l), H, C);
        for (int i = 0; i < C; i++) s->x[i] += s->tmp[i];
    }
    lnorm(s->xn, s->x, m->wt.w[MF_LNF_W], m->wt.w[MF_LNF_B], C);
    matvec(s->logits, s->xn, m->wt.w[MF_WTE], 0, C, 256);
    s->pos++;
    return s->logits;
}
