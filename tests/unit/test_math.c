/* test_math - the core's expf/tanhf/sqrtf against glibc's libm over the whole range the model can feed them
 * (and beyond), and the memory helpers against libc. Max errors are printed and asserted. */
#include <float.h>
#include <math.h>
#include <stdint.h>
#include <string.h>

#include "check.h"
#include "ecmath.h"

static float from_bits(uint32_t b)
{
    float f;
    memcpy(&f, &b, 4);
    return f;
}

/* Relative error for normal results, in units of FLT_EPSILON/2 (half an ulp at 1). */
static double rel_err(float got, float want)
{
    if (got == want)
        return 0;
    return fabs((double)got - (double)want) / fabs((double)want);
}

int main(void)
{
    // expf: every 97th float bit pattern in [-103.98, 88.73] plus dense sweeps of the model's range [-40, 18].
    double worst = 0, worst_x = 0, worst_sub = 0;
    long n = 0;
    for (uint32_t b = 0; b < 0xFFFFFFFFu - 97; b += 97) {
        float x = from_bits(b);
        if (!(x >= -103.97f && x <= 88.72f))
            continue;
        float got = ec_expf(x), want = expf(x);
        n++;
        if (want >= FLT_MIN) {
            double e = rel_err(got, want);
            if (e > worst)
                worst = e, worst_x = x;
        } else {
            double e = fabs((double)got - (double)want);
            worst_sub = e > worst_sub ? e : worst_sub;
        }
    }
    printf("   expf: %ld inputs, max rel error %.3g (at %.9g) on normal results, max abs error %.3g on subnormal\n",
           n, worst, worst_x, worst_sub);
    check_case(worst <= 3e-7, "expf_relative_error_le_3e-7", "max %.3g at %.9g", worst, worst_x);
    check_case(worst_sub <= 4 * 1.4013e-45, "expf_subnormal_abs_error_le_4_denormals", "max %.3g", worst_sub);
    check_case(ec_expf(-INFINITY) == 0 && ec_expf(INFINITY) == INFINITY && isnan(ec_expf(NAN)) &&
                   ec_expf(-200.0f) == 0 && ec_expf(100.0f) == INFINITY && ec_expf(0.0f) == 1.0f,
               "expf_special_values", "inf/nan/0 handling");

    // tanhf: dense over [-12, 12] (GELU's argument stays well inside), and tiny magnitudes.
    worst = 0;
    n = 0;
    for (double x = -12.0; x <= 12.0; x += 1.0 / 65536.0) {
        float xf = (float)x, got = ec_tanhf(xf), want = tanhf(xf);
        n++;
        double e = want == 0 ? fabs(got) : rel_err(got, want);
        if (e > worst)
            worst = e, worst_x = xf;
    }
    for (float x = 1e-38f; x < 1e-2f; x *= 1.001f) {
        double e = rel_err(ec_tanhf(x), tanhf(x)) + rel_err(ec_tanhf(-x), tanhf(-x));
        n += 2;
        if (e > worst)
            worst = e, worst_x = x;
    }
    printf("   tanhf: %ld inputs, max rel error %.3g (at %.9g)\n", n, worst, worst_x);
    check_case(worst <= 6e-7, "tanhf_relative_error_le_6e-7", "max %.3g at %.9g", worst, worst_x);
    check_case(ec_tanhf(100.0f) == 1.0f && ec_tanhf(-100.0f) == -1.0f && ec_tanhf(0.0f) == 0.0f &&
                   isnan(ec_tanhf(NAN)) && ec_tanhf(INFINITY) == 1.0f,
               "tanhf_special_values", "saturation/nan handling");

    // sqrtf: correctly rounded, so bit-identical to libm on every tested positive float
    long bad = 0;
    for (uint32_t b = 0; b < 0x7F800000u; b += 61) {
        float x = from_bits(b);
        bad += ec_sqrtf(x) != sqrtf(x);
    }
    check_case(bad == 0, "sqrtf_bit_identical_to_libm", "%ld inputs differ", bad);

    // vector and scalar forms agree lane by lane
    float xs[4] = {-3.5f, 0.25f, 7.0f, -0.001f}, ye[4], yt[4];
    v4f_store(ye, ec_expf4(v4f_load(xs)));
    v4f_store(yt, ec_tanhf4(v4f_load(xs)));
    int same = 1;
    for (int i = 0; i < 4; i++)
        same &= ye[i] == ec_expf(xs[i]) && yt[i] == ec_tanhf(xs[i]);
    check_case(same, "vector_and_scalar_forms_identical", "lanes differ");

    // memory and string helpers vs libc
    unsigned char a[300], b1[300], b2[300];
    for (int i = 0; i < 300; i++)
        a[i] = (unsigned char)(i * 7 + 3);
    memset(b1, 0xAA, sizeof b1);
    memset(b2, 0xAA, sizeof b2);
    ec_memcpy(b1 + 3, a, 257);
    memcpy(b2 + 3, a, 257);
    int ok = memcmp(b1, b2, 300) == 0;
    ec_memset(b1 + 5, 0x5C, 100);
    memset(b2 + 5, 0x5C, 100);
    ok &= memcmp(b1, b2, 300) == 0;
    check_case(ok, "memcpy_memset_match_libc", "buffers differ");
    char buf[16] = "ab";
    ec_str_append(buf, sizeof buf, "cdefghijklmnopqrstuvwxyz");
    ok = strlen(buf) == 15 && ec_strlen(buf) == 15 && strncmp(buf, "abcdefghijklmno", 15) == 0;
    buf[0] = 0;
    ec_str_append_u64(buf, sizeof buf, 18446744073709551615ull);
    ok &= strcmp(buf, "18446744073709551") == 0 || strcmp(buf, "184467440737095") == 0;
    check_case(ok, "string_helpers_truncate_safely", "got '%s'", buf);
    return check_exit();
}
