/* test_sampler_big - sampling over a Llama-sized vocabulary (32,000 tokens, through the caller's scratch: a k-entry
 * heap for top-k, a merge sort for top-p alone) against the definition written out plainly here: every index sorted
 * by qsort on (logit descending, index ascending), the top-k cut, the top-p prefix, the draw by cumulative mass in
 * that order with the same PRNG. Draw for draw the same token is required (the sums run in the same order, so the
 * floats are the same); logits are rounded to create many ties. Plus greedy and the no-scratch fallback. */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "ecmath.h"
#include "sampler.h"

#define V 32000

static float logits[V];
static const float *cmp_v;

static int cmp(const void *pa, const void *pb)
{
    uint32_t a = *(const uint32_t *)pa, b = *(const uint32_t *)pb;
    if (cmp_v[a] != cmp_v[b])
        return cmp_v[a] > cmp_v[b] ? -1 : 1;
    return a < b ? -1 : a > b;
}

/* The definition: what sampler_sample must return, consuming the PRNG of `s` the same way. */
static int reference(Sampler *s, const float *v, int n)
{
    static uint32_t order[V];
    static float probs[V];
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    if (!(s->temperature > 0.0f) || s->top_k == 1 || !(s->top_p > 0.0f))
        return best;
    float inv_t = 1.0f / s->temperature;
    for (int i = 0; i < n; i++)
        probs[i] = ec_expf((v[i] - v[best]) * inv_t);
    for (int i = 0; i < n; i++)
        order[i] = (uint32_t)i;
    int count = n;
    if ((s->top_k > 0 && s->top_k < (uint32_t)n) || s->top_p < 1.0f) {
        cmp_v = v;
        qsort(order, (size_t)n, sizeof order[0], cmp);
        if (s->top_k > 0 && s->top_k < (uint32_t)n)
            count = (int)s->top_k;
        if (s->top_p < 1.0f) {
            float total = 0.0f, cum = 0.0f;
            for (int i = 0; i < count; i++)
                total += probs[order[i]];
            int keep = 0;
            while (keep < count) {
                cum += probs[order[keep++]];
                if (cum >= s->top_p * total)
                    break;
            }
            count = keep;
        }
    }
    float mass = 0.0f;
    for (int i = 0; i < count; i++)
        mass += probs[order[i]];
    float r = sampler_uniform(s) * mass, cum = 0.0f;
    for (int i = 0; i < count; i++) {
        cum += probs[order[i]];
        if (r < cum)
            return (int)order[i];
    }
    return (int)order[count - 1];
}

int main(void)
{
    static uint8_t scratch[V * 12];
    if (sampler_scratch_bytes(V) > sizeof scratch) {
        check_case(0, "scratch_size", "needs %zu bytes", sampler_scratch_bytes(V));
        return check_exit();
    }
    srand(5);
    for (int i = 0; i < V; i++) /* 1/8 steps: many ties, as real logits of a random model have few */
        logits[i] = roundf(((float)rand() / (float)RAND_MAX * 16.0f - 8.0f) * 8.0f) / 8.0f;
    static const struct { float temp; uint32_t k; float p; const char *name; } cases[] = {
        {1.0f, 0, 1.0f, "full_softmax"},   {0.8f, 40, 1.0f, "top_k40"},    {0.8f, 256, 0.95f, "top_k256_top_p"},
        {1.0f, 0, 0.9f, "top_p0.9_alone"}, {1.2f, 0, 0.3f, "top_p0.3"},    {0.7f, 5, 0.5f, "top_k5_top_p0.5"},
        {1.0f, 31999, 1.0f, "top_k_v_minus_1"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        Sampler s, r;
        sampler_init(&s, cases[c].temp, cases[c].k, cases[c].p, 77 + c);
        sampler_set_scratch(&s, scratch, V);
        sampler_init(&r, cases[c].temp, cases[c].k, cases[c].p, 77 + c);
        int same = 1, distinct = 0, first_bad = -1;
        static uint8_t seen[V];
        memset(seen, 0, sizeof seen);
        for (int d = 0; d < 40 && same; d++) {
            int x = sampler_sample(&s, logits, V), y = reference(&r, logits, V);
            if (x != y)
                same = 0, first_bad = d;
            distinct += !seen[x];
            seen[x] = 1;
        }
        /* every case but the tight top-p / top-k 5 draws from many tokens: a sampler stuck on one would show */
        int spread = cases[c].k == 5 ? distinct >= 2 : distinct >= 8;
        check_case(same && spread, cases[c].name, "draw %d differs from the definition, %d distinct tokens",
                   first_bad, distinct);
    }
    Sampler s;
    int best = 0;
    for (int i = 1; i < V; i++)
        if (logits[i] > logits[best])
            best = i;
    sampler_init(&s, 0.0f, 0, 1.0f, 1);
    sampler_set_scratch(&s, scratch, V);
    int g = sampler_sample(&s, logits, V);
    check_case(g == best, "greedy_is_first_argmax", "got %d, want %d", g, best);
    sampler_init(&s, 1.0f, 40, 0.9f, 1); /* no scratch: only the greedy choice is possible */
    int h = sampler_sample(&s, logits, V);
    check_case(h == best, "no_scratch_falls_back_to_greedy", "got %d, want %d", h, best);
    return check_exit();
}
