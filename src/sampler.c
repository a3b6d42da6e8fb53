/* sampler.c - temperature, top-k and top-p sampling with a xorshift64* PRNG: up to 256 logits in the struct's own
 * arrays, larger vocabularies in the caller's scratch (top-k by a k-entry heap, top-p alone by a merge sort).
 * Ties are broken by the lower token index everywhere, so greedy, top-k 1 and top-p -> 0 agree. */
#include "sampler.h"
#include "ecmath.h"

void sampler_init(Sampler *s, float temperature, uint32_t top_k, float top_p, uint64_t seed)
{
    s->temperature = temperature;
    s->top_k = top_k;
    s->top_p = top_p;
    s->rng = seed ? seed : 0x9E3779B97F4A7C15ull;
    s->big_probs = 0;
    s->big_order = s->big_tmp = 0;
    s->big_cap = 0;
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

/* a comes before b: the higher logit, the lower index among equals (a total order, so every sort agrees). */
static int before(const float *v, uint32_t a, uint32_t b) { return v[a] > v[b] || (v[a] == v[b] && a < b); }

/* order[0..n) = indices in that order (insertion sort: n <= 256). */
static void sort_small(uint32_t *order, const float *v, int n)
{
    for (int i = 0; i < n; i++) {
        int j = i;
        while (j > 0 && before(v, (uint32_t)i, order[j - 1])) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = (uint32_t)i;
    }
}

/* order[0..n) = indices in that order: bottom-up merge sort through tmp, O(n log n). */
static void sort_big(uint32_t *order, uint32_t *tmp, const float *v, uint32_t n)
{
    for (uint32_t i = 0; i < n; i++)
        order[i] = i;
    uint32_t *src = order, *dst = tmp;
    for (uint32_t w = 1; w < n; w *= 2) {
        for (uint32_t lo = 0; lo < n; lo += 2 * w) {
            uint32_t mid = lo + w < n ? lo + w : n, hi = lo + 2 * w < n ? lo + 2 * w : n;
            uint32_t i = lo, j = mid, k = lo;
            while (i < mid && j < hi)
                dst[k++] = before(v, src[j], src[i]) ? src[j++] : src[i++];
            while (i < mid)
                dst[k++] = src[i++];
            while (j < hi)
                dst[k++] = src[j++];
        }
        uint32_t *t = src;
        src = dst;
        dst = t;
    }
    if (src != order)
        for (uint32_t i = 0; i < n; i++)
            order[i] = src[i];
}

/* order[0..k) = the first k indices in that order, k < n: a heap of the k best so far, worst at its root. */
static void select_top(uint32_t *order, const float *v, uint32_t n, uint32_t k)
{
    for (uint32_t i = 0; i < n; i++) {
        uint32_t at;
        if (i < k) { /* grow: sift the new one up */
            at = i;
            while (at > 0 && before(v, order[(at - 1) / 2], i)) {
                order[at] = order[(at - 1) / 2];
                at = (at - 1) / 2;
            }
            order[at] = i;
            continue;
        }
        if (!before(v, i, order[0]))
            continue;
        at = 0; /* replace the worst: sift down */
        for (;;) {
            uint32_t c = 2 * at + 1;
            if (c >= k)
                break;
            if (c + 1 < k && before(v, order[c], order[c + 1]))
                c++;
            if (!before(v, i, order[c]))
                break;
            order[at] = order[c];
            at = c;
        }
        order[at] = i;
    }
    /* heap sort in place: the worst goes to the end each round */
    for (uint32_t end = k - 1; end > 0; end--) {
        uint32_t worst = order[0], last = order[end], at = 0;
        for (;;) {
            uint32_t c = 2 * at + 1;
            if (c >= end)
                break;
            if (c + 1 < end && before(v, order[c], order[c + 1]))
                c++;
            if (!before(v, last, order[c]))
                break;
            order[at] = order[c];
            at = c;
        }
        order[at] = last;
        order[end] = worst;
    }
}

size_t sampler_scratch_bytes(uint32_t n) { return (size_t)n * (sizeof(float) + 2 * sizeof(uint32_t)); }

void sampler_set_scratch(Sampler *s, void *mem, uint32_t n)
{
    s->big_probs = (float *)mem;
    s->big_order = (uint32_t *)(s->big_probs + n);
    s->big_tmp = s->big_order + n;
    s->big_cap = n;
}

int sampler_sample(Sampler *s, const float *logits, int n)
{
    if (n <= 0)
        return 0;
    int big = n > 256;
    if (!(s->temperature > 0.0f) || s->top_k == 1 || !(s->top_p > 0.0f) || (big && (uint32_t)n > s->big_cap))
        return argmax(logits, n);
    float *probs = big ? s->big_probs : s->probs;
    uint32_t *order = big ? s->big_order : s->order;

    // probabilities at this temperature (unnormalised: exp(l - max))
    float max = logits[argmax(logits, n)], inv_t = 1.0f / s->temperature;
    for (int i = 0; i < n; i++)
        probs[i] = ec_expf((logits[i] - max) * inv_t);

    int top_k = s->top_k > 0 && s->top_k < (uint32_t)n;
    int count = n;
    if (top_k || s->top_p < 1.0f) {
        if (!big)
            sort_small(order, logits, n);
        else if (top_k)
            select_top(order, logits, (uint32_t)n, s->top_k);
        else
            sort_big(order, s->big_tmp, logits, (uint32_t)n);
        if (top_k)
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
    } else {
        for (int i = 0; i < n; i++)
            order[i] = (uint32_t)i;
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
    return (int)order[count - 1]; /* rounding left r at the very top */
}
