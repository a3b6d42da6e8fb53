/* test_sampler - greedy equivalences, seeded reproducibility, and sampled frequencies against the softmax
 * (chi-square over 200k draws; the bound is the 1e-5 tail of the chi-square distribution for its degrees of
 * freedom, and the seed is fixed, so the test is deterministic). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "sampler.h"

#define DRAWS 200000

static float logits[256];

static void fill_logits(unsigned seed)
{
    srand(seed);
    for (int i = 0; i < 256; i++)
        logits[i] = (float)rand() / (float)RAND_MAX * 4.0f - 2.0f;
}

static int argmax(const float *v)
{
    int b = 0;
    for (int i = 1; i < 256; i++)
        if (v[i] > v[b])
            b = i;
    return b;
}

/* chi-square of DRAWS samples against softmax(logits/temp) restricted to `allowed` (1 = allowed). */
static double chi_square(float temp, uint32_t top_k, float top_p, const int *allowed, int *outside, int *dof)
{
    static long counts[256];
    double p[256], z = 0, maxl = logits[argmax(logits)];
    Sampler s;
    sampler_init(&s, temp, top_k, top_p, 12345);
    memset(counts, 0, sizeof counts);
    for (int i = 0; i < DRAWS; i++)
        counts[sampler_sample(&s, logits, 256)]++;
    for (int i = 0; i < 256; i++)
        z += p[i] = allowed[i] ? exp((logits[i] - maxl) / temp) : 0;
    double chi = 0;
    *outside = 0;
    *dof = -1;
    for (int i = 0; i < 256; i++) {
        if (!allowed[i]) {
            *outside += counts[i] != 0;
            continue;
        }
        double e = DRAWS * p[i] / z;
        chi += (counts[i] - e) * (counts[i] - e) / e;
        (*dof)++;
    }
    return chi;
}

/* Upper 1e-5 tail of chi-square with k degrees of freedom (Wilson-Hilferty). */
static double chi_bound(int k)
{
    double z = 4.265, a = 2.0 / (9.0 * k);
    return k * pow(1 - a + z * sqrt(a), 3);
}

int main(void)
{
    Sampler s;
    int ok = 1;
    for (unsigned t = 0; t < 50; t++) {
        fill_logits(t);
        int want = argmax(logits);
        sampler_init(&s, 0.0f, 0, 1.0f, t + 1);
        ok &= sampler_sample(&s, logits, 256) == want;
        sampler_init(&s, 1.0f, 1, 1.0f, t + 1);
        ok &= sampler_sample(&s, logits, 256) == want;
        sampler_init(&s, 1.5f, 0, 1e-7f, t + 1);
        ok &= sampler_sample(&s, logits, 256) == want;
        sampler_init(&s, 0.7f, 40, 0.0f, t + 1);
        ok &= sampler_sample(&s, logits, 256) == want;
    }
    check_case(ok, "temp0_topk1_topp0_are_greedy", "a sampler disagreed with argmax");

    float ties[256];
    for (int i = 0; i < 256; i++)
        ties[i] = (i == 17 || i == 200) ? 3.0f : 0.0f;
    sampler_init(&s, 0.0f, 0, 1.0f, 1);
    int g0 = sampler_sample(&s, ties, 256);
    sampler_init(&s, 1.0f, 1, 1.0f, 1);
    int g1 = sampler_sample(&s, ties, 256);
    check_case(g0 == 17 && g1 == 17, "ties_break_to_lower_index", "got %d and %d", g0, g1);

    fill_logits(99);
    Sampler a, b, c;
    sampler_init(&a, 0.9f, 40, 0.95f, 42);
    sampler_init(&b, 0.9f, 40, 0.95f, 42);
    sampler_init(&c, 0.9f, 40, 0.95f, 43);
    int same = 1, differ = 0;
    for (int i = 0; i < 2000; i++) {
        int x = sampler_sample(&a, logits, 256), y = sampler_sample(&b, logits, 256);
        same &= x == y;
        differ += x != sampler_sample(&c, logits, 256);
    }
    check_case(same, "seeded_run_is_reproducible", "same seed gave different draws");
    check_case(differ > 100, "different_seeds_differ", "only %d of 2000 draws differ", differ);

    int allowed[256], outside, dof;
    double chi;
    for (int i = 0; i < 256; i++)
        allowed[i] = 1;
    fill_logits(7);
    chi = chi_square(1.0f, 0, 1.0f, allowed, &outside, &dof);
    printf("   temp 1.0: chi-square %.1f with %d dof (bound %.1f)\n", chi, dof, chi_bound(dof));
    check_case(chi < chi_bound(dof), "frequencies_match_softmax_temp1", "chi2 %.1f >= %.1f", chi, chi_bound(dof));
    chi = chi_square(0.5f, 0, 1.0f, allowed, &outside, &dof);
    printf("   temp 0.5: chi-square %.1f with %d dof (bound %.1f)\n", chi, dof, chi_bound(dof));
    check_case(chi < chi_bound(dof), "frequencies_match_softmax_temp0.5", "chi2 %.1f", chi);

    // top-k 10: only the 10 largest logits, renormalised
    float sorted[256];
    memcpy(sorted, logits, sizeof sorted);
    for (int i = 0; i < 10; i++) { /* the 10th largest value by selection */
        int m = i;
        for (int j = i + 1; j < 256; j++)
            if (sorted[j] > sorted[m])
                m = j;
        float t = sorted[i];
        sorted[i] = sorted[m];
        sorted[m] = t;
    }
    for (int i = 0; i < 256; i++)
        allowed[i] = logits[i] >= sorted[9];
    chi = chi_square(1.0f, 10, 1.0f, allowed, &outside, &dof);
    printf("   top-k 10: chi-square %.1f with %d dof (bound %.1f), %d tokens drawn outside\n", chi, dof,
           chi_bound(dof), outside);
    check_case(chi < chi_bound(dof) && outside == 0 && dof == 9, "topk10_frequencies_and_support", "chi2 %.1f", chi);

    // top-p 0.3: the smallest prefix (by probability) whose mass reaches 30%
    double p[256], z = 0, cum = 0;
    for (int i = 0; i < 256; i++)
        z += p[i] = exp(logits[i] - logits[argmax(logits)]);
    int order[256];
    for (int i = 0; i < 256; i++)
        order[i] = i;
    for (int i = 0; i < 256; i++)
        for (int j = i + 1; j < 256; j++)
            if (logits[order[j]] > logits[order[i]]) {
                int t = order[i];
                order[i] = order[j];
                order[j] = t;
            }
    memset(allowed, 0, sizeof allowed);
    for (int i = 0; i < 256 && cum < 0.3 * z; i++) {
        allowed[order[i]] = 1;
        cum += p[order[i]];
    }
    chi = chi_square(1.0f, 0, 0.3f, allowed, &outside, &dof);
    printf("   top-p 0.3: chi-square %.1f with %d dof (bound %.1f), %d tokens drawn outside\n", chi, dof,
           chi_bound(dof), outside);
    check_case(chi < chi_bound(dof) && outside == 0, "topp0.3_frequencies_and_support", "chi2 %.1f", chi);
    return check_exit();
}
