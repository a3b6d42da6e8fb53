/* sampler.c - temperature, top-k and top-p sampling over at most 256 logits, with a xorshift64* PRNG.
 * Ties are broken by the lower token index everywhere, so greedy, top-k 1 and top-p -> 0 agree. */
#include "sampler.h"
#include "ecmath.h"

void sampler_init(Sampler *s, float temperature, uint32_t top_k, float top_p, uint64_t seed)
{
    s->temperature = temperature;
    s->top_k = top_k;
    s->top_p = top_p;
    s->rng = seed ? seed : 0x9E3779B97F4A7C15ull;
}

static uint64_t next_u64(Sampler *s)
{
    uint64_t x = s->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    s->rng = x;
    return x * 0x2545F4914F6CDD1Dull;
}

float sampler_uniform(Sampler *s) { return (float)(next_u64(s) >> 40) * (1.0f / 16777216.0f); }

static int argmax(const float *v, int n)
{
    int best = 0;
    for (int i = 1; i < n; i++)
        if (v[i] > v[best])
            best = i;
    return best;
}

/* order[0..n) = indices by logit, highest first, lower index first among equals (insertion sort: n <= 256). */
static void sort_desc(uint16_t *order, const float *v, int n)
{
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && v[order[j - 1]] < v[i]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = (uint16_t)i;
    }
}

int sampler_sample(Sampler *s, const float *logits, int n)
{
    if (n <= 0)
        return 0;
    if (n > 256)
        n = 256;
    if (!(s->temperature > 0.0f) || s->top_k == 1 || !(s->top_p > 0.0f))
        return argmax(logits, n);

    // probabilities at this temperature (unnormalised: exp(l - max))
    float max = logits[argmax(logits, n)], inv_t = 1.0f / s->temperature;
    for (int i = 0; i < n; i++)
        s->probs[i] = ec_expf((logits[i] - max) * inv_t);

    int filtered = (s->top_k > 0 && s->top_k < (uint32_t)n) || s->top_p < 1.0f;
    int count = n;
    if (filtered) {
        sort_desc(s->order, logits, n);
        if (s->top_k > 0 && s->top_k < (uint32_t)count)
            count = (int)s->top_k;
        if (s->top_p < 1.0f) {
            float total = 0.0f, cum = 0.0f;
            for (int i = 0; i < count; i++)
                total += s->probs[s->order[i]];
            int keep = 0;
            while (keep < count) {
                cum += s->probs[s->order[keep++]];
                if (cum >= s->top_p * total)
                    break;
            }
            count = keep;
        }
    } else {
        for (int i = 0; i < n; i++)
            s->order[i] = (uint16_t)i;
    }

    float mass = 0.0f;
    for (int i = 0; i < count; i++)
        mass += s->probs[s->order[i]];
    float r = sampler_uniform(s) * mass, cum = 0.0f;
    for (int i = 0; i < count; i++) {
        cum += s->probs[s->order[i]];
        if (r < cum)
            return s->order[i];
    }
    return s->order[count - 1]; /* rounding left r at the very top */
}
