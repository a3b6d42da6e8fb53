/* test_math8 - the 8-lane AVX2 expf/tanhf (ecmath.h's one definition instantiated over arch/vec8.h) and the 16-lane
 * AVX-512 expf (arch/vec16.h, where the CPU has VNNI) give exactly the bits of the 4-lane ones, over every float
 * whose bits are a multiple of 97 (44 million values: all exponents, signs, subnormals, infinities and NaNs) and the
 * edges of each formula's ranges. Skipped (one PASS line saying so) on a CPU without AVX2, where nothing runs the
 * 8-lane code. */
#include <string.h>

#include "check.h"
#include "ecmath.h"
#include "kernels.h"
#include "q8.h"

#if defined(__x86_64__)
EC_TARGET_AVX2 static uint32_t compare(const float *x, int n, uint32_t *bad_bits)
{
    uint32_t bad = 0;
    for (int i = 0; i + 8 <= n; i += 8) {
        float e8[8], t8[8], e4[8], t4[8];
        v8f_store(e8, ec_expf8(v8f_load(x + i)));
        v8f_store(t8, ec_tanhf8(v8f_load(x + i)));
        for (int h = 0; h < 8; h += 4) {
            v4f_store(e4 + h, ec_expf4(v4f_load(x + i + h)));
            v4f_store(t4 + h, ec_tanhf4(v4f_load(x + i + h)));
        }
        for (int j = 0; j < 8; j++)
            if (memcmp(e8 + j, e4 + j, 4) || memcmp(t8 + j, t4 + j, 4)) {
                bad++;
                memcpy(bad_bits, x + i + j, 4);
            }
    }
    return bad;
}

/* The 16-lane expf (arch/vec16.h, beside the VNNI path) against the 4-lane one; n a multiple of 16. */
EC_TARGET_AVX512 static uint32_t compare16(const float *x, int n, uint32_t *bad_bits)
{
    uint32_t bad = 0;
    for (int i = 0; i + 16 <= n; i += 16) {
        float e16[16], e4[16];
        v16f_store(e16, ec_expf16(v16f_load(x + i)));
        for (int h = 0; h < 16; h += 4)
            v4f_store(e4 + h, ec_expf4(v4f_load(x + i + h)));
        for (int j = 0; j < 16; j++)
            if (memcmp(e16 + j, e4 + j, 4)) {
                bad++;
                memcpy(bad_bits, x + i + j, 4);
            }
    }
    return bad;
}

#endif

int main(void)
{
#if !defined(__x86_64__)
    check_case(1, "math8_skipped_not_x86", ""); /* AArch64 has no 8-lane code */
    return check_exit();
#else
    if (!kern_cpu_has_avx2()) {
        check_case(1, "math8_skipped_no_avx2", "");
        return check_exit();
    }
    enum { CHUNK = 1 << 16 };
    static float buf[CHUNK];
    uint32_t bad = 0, bad_bits = 0, bad16 = 0, bad16_bits = 0;
    int n = 0, wide = q8_path_available(Q8_PATH_VNNI);
    for (uint64_t b = 0; b <= 0xFFFFFFFFull; b += 97) {
        uint32_t u = (uint32_t)b;
        memcpy(&buf[n++], &u, 4);
        if (n == CHUNK) {
            bad += compare(buf, n, &bad_bits);
            bad16 += wide ? compare16(buf, n, &bad16_bits) : 0;
            n = 0;
        }
    }
    const float edges[] = {88.72283935546875f, 88.7228394f, -103.97208404541015625f, -103.972092f, 0.625f, -0.625f,
                           0.62499994f, 9.5f, 9.50001f, -9.5f, 0.0f, -0.0f, 1e-30f, -1e-30f, 1.0f, -1.0f};
    for (unsigned i = 0; i < sizeof edges / sizeof edges[0]; i++)
        buf[n++] = edges[i];
    while (n % 16)
        buf[n++] = 0.5f;
    bad += compare(buf, n, &bad_bits);
    check_case(bad == 0, "expf8_tanhf8_bits_equal_4_lane", "%u values differ (e.g. bits 0x%08x)", bad, bad_bits);
    if (wide) {
        bad16 += compare16(buf, n, &bad16_bits);
        check_case(bad16 == 0, "expf16_bits_equal_4_lane", "%u values differ (e.g. bits 0x%08x)", bad16, bad16_bits);
    }
    return check_exit();
#endif
}
