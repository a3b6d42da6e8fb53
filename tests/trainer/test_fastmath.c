/* test_fastmath.c - the trainer's fm_expf/fm_tanhf (and the AVX-512 lanes where the CPU has them) against libm,
 * and NaN in, NaN out with no undefined behaviour: built with UBSan's float-cast-overflow check, which catches a
 * NaN converted to int. Built as build/tests/test_trainer_fastmath. */
#include <math.h>
#include <stdio.h>

#include "check.h"
#include "fastmath.h"

int main(void)
{
    /* NaN used to reach (int32_t) in the range reduction: undefined, and UBSan stops the program there */
    float e = fm_expf(NAN), t = fm_tanhf(NAN);
    check_case(isnan(e) && isnan(t), "fastmath-nan-in-nan-out", "expf %g tanhf %g", e, t);
    e = fm_expf(-NAN);
    check_case(isnan(e), "fastmath-negative-nan-in-nan-out", "expf %g", e);
    check_case(fm_expf(INFINITY) > 1e38f && fm_expf(-INFINITY) < 1e-37f && fm_tanhf(INFINITY) == 1.0f &&
                   fm_tanhf(-INFINITY) == -1.0f,
               "fastmath-infinities-clamp", "expf(inf) %g expf(-inf) %g", fm_expf(INFINITY), fm_expf(-INFINITY));

    double worst = 0;
    for (float x = -87.0f; x <= 88.0f; x += 0.00731f) {
        double rel = fabs((double)fm_expf(x) - exp((double)x)) / exp((double)x);
        worst = rel > worst ? rel : worst;
    }
    check_case(worst < 1e-6, "fastmath-expf-matches-libm", "worst relative error %.3g", worst);
    worst = 0;
    for (float x = -10.0f; x <= 10.0f; x += 0.00131f) {
        double d = fabs((double)fm_tanhf(x) - tanh((double)x));
        worst = d > worst ? d : worst;
    }
    check_case(worst < 1e-6, "fastmath-tanhf-matches-libm", "worst absolute error %.3g", worst);

#ifdef __AVX512F__
    float in[16], out[16];
    for (int i = 0; i < 16; i++)
        in[i] = i % 3 == 0 ? NAN : (float)i - 8.0f;
    _mm512_storeu_ps(out, fm_expf16(_mm512_loadu_ps(in)));
    int ok = 1;
    for (int i = 0; i < 16; i++)
        ok &= i % 3 == 0 ? isnan(out[i]) : fabsf(out[i] - fm_expf(in[i])) <= 1e-6f * fm_expf(in[i]);
    check_case(ok, "fastmath-avx512-nan-lanes-stay-nan", "a lane differs");
#endif
    return check_exit();
}
