/* test_gemm.c - the trainer's GEMM against a double-precision triple loop: every transposition of A and B, ragged
 * edges (sizes that are not multiples of the 8x32 tile or the 64x256 blocks), overwrite and accumulate, 1 and 2
 * threads; and the same bits from 1 and 2 threads. Built with sanitizers as build/tests/test_trainer_gemm. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "gemm.h"

#define MAXD 700

static float A[MAXD * MAXD], B[MAXD * MAXD], C1[MAXD * MAXD], C2[MAXD * MAXD];

int main(void)
{
    static const int sizes[][3] = {{37, 45, 300}, {300, 70, 513}, {64, 32, 256}, {129, 33, 17},
                                   {8, 32, 1},    {1, 1, 1},      {71, 100, 600}, {9, 700, 65}};
    Gemm g1, g2;
    if (gemm_init(&g1, 1, MAXD, MAXD) != 0 || gemm_init(&g2, 2, MAXD, MAXD) != 0) {
        check_case(0, "gemm-init", "out of memory");
        return check_exit();
    }
    srand(1);
    for (int i = 0; i < MAXD * MAXD; i++) {
        A[i] = rand() / (float)RAND_MAX - 0.5f;
        B[i] = rand() / (float)RAND_MAX - 0.5f;
    }
    double worst = 0.0;
    int same_bits = 1;
    for (size_t t = 0; t < sizeof sizes / sizeof sizes[0]; t++) {
        for (int tr = 0; tr < 4; tr++) {
            int m = sizes[t][0], n = sizes[t][1], k = sizes[t][2];
            ptrdiff_t ars = (tr & 1) ? 1 : k, acs = (tr & 1) ? m : 1, brs = (tr & 2) ? 1 : n, bcs = (tr & 2) ? k : 1;
            for (int acc = 0; acc < 2; acc++) {
                for (int i = 0; i < m * n; i++)
                    C1[i] = C2[i] = acc ? 1.0f : 7.0f;
                gemm(&g1, m, n, k, A, ars, acs, B, brs, bcs, C1, n, acc);
                gemm(&g2, m, n, k, A, ars, acs, B, brs, bcs, C2, n, acc);
                same_bits &= memcmp(C1, C2, sizeof(float) * m * n) == 0;
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < n; j++) {
                        double s = acc ? 1.0 : 0.0;
                        for (int q = 0; q < k; q++)
                            s += (double)A[i * ars + q * acs] * B[q * brs + j * bcs];
                        double e = fabs(s - C2[i * n + j]) / (1.0 + sqrt((double)k));
                        worst = e > worst ? e : worst;
                    }
            }
        }
    }
    check_case(worst < 2e-6, "trainer-gemm-matches-double-reference", "worst scaled error %g", worst);
    check_case(same_bits, "trainer-gemm-1-and-2-threads-same-bits", "results differ between thread counts");
    gemm_free(&g1);
    gemm_free(&g2);
    return check_exit();
}
