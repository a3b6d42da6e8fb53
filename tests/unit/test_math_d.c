/* test_math_d - the core's double-precision set-up math (ecmath.h: ec_log_d, ec_exp_d, ec_sincos_d, used for the
 * Llama family's rotary angles) against libm over the ranges it promises: relative error below 1e-15 for log and
 * exp, absolute error below 1e-15 for sin and cos up to |x| = 1e6 (a position times a rotary frequency). */
#include <math.h>

#include "check.h"
#include "ecmath.h"

int main(void)
{
    double worst = 0, at = 0;
    for (double x = 1e-300; x < 1e300; x *= 1.37) {
        double e = fabs(ec_log_d(x) - log(x)) / fmax(fabs(log(x)), 1e-300);
        if (e > worst)
            worst = e, at = x;
    }
    check_case(worst < 1e-15, "log_d_matches_libm", "relative error %g at %g", worst, at);
    worst = 0;
    for (double x = -690; x < 690; x += 0.0137) {
        double e = fabs(ec_exp_d(x) - exp(x)) / exp(x);
        if (e > worst)
            worst = e, at = x;
    }
    check_case(worst < 1e-15, "exp_d_matches_libm", "relative error %g at %g", worst, at);
    worst = 0;
    for (double x = -1e6; x < 1e6; x += 0.3701) {
        double s, c;
        ec_sincos_d(x, &s, &c);
        double e = fmax(fabs(s - sin(x)), fabs(c - cos(x)));
        if (e > worst)
            worst = e, at = x;
    }
    check_case(worst < 1e-15, "sincos_d_matches_libm", "absolute error %g at %g", worst, at);
    return check_exit();
}
