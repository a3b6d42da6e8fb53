/* fuzz_config.c - efichat.cfg parsing on any bytes. Promises checked: every report is one NUL-terminated
 * sentence with a line number inside the file, and whatever the file says, the settings stay inside the ranges
 * the hotkeys keep (a bad line changes nothing). */
#include <string.h>

#include "efi/config.h"
#include "fuzz.h"

typedef struct {
    unsigned lines; /* lines in the input: the highest line number a report may name */
    unsigned reports;
} Seen;

static void on_report(void *ctx, unsigned line, const char *msg)
{
    Seen *seen = ctx;
    FUZZ_CHECK(line <= seen->lines);
    FUZZ_CHECK(msg != NULL && strlen(msg) < 256);
    seen->reports++;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* an exact copy without a NUL: config_parse must stop at len, not at a terminator */
    char *text = malloc(size ? size : 1);
    FUZZ_CHECK(text != NULL);
    memcpy(text, data, size);
    Seen seen = {1, 0};
    for (size_t i = 0; i < size; i++)
        seen.lines += text[i] == '\n';
    Settings s;
    settings_default(&s);
    unsigned problems = config_parse(text, size, &s, on_report, &seen);
    FUZZ_CHECK(problems == seen.reports);
    FUZZ_CHECK(s.temp <= TEMP_MAX);
    FUZZ_CHECK(s.top_k <= 256);
    FUZZ_CHECK(s.top_p >= TOP_P_MIN && s.top_p <= TOP_P_MAX);
    FUZZ_CHECK(s.font_px == 0 || (s.font_px >= FONT_PX_MIN && s.font_px <= FONT_PX_MAX));
    FUZZ_CHECK(s.mode == MODE_PLAY || s.mode == MODE_RAW);
    FUZZ_CHECK(s.max_reply >= 1 && s.max_reply <= REPLY_MAX_LIMIT);
    FUZZ_CHECK(memchr(s.user_name, 0, sizeof s.user_name) != NULL && s.user_name[0] != 0);
    for (const char *c = s.user_name; *c; c++)
        FUZZ_CHECK((uint8_t)*c >= 0x20 && *c != ':');
    FUZZ_CHECK(s.input >= -1 && s.input <= 2);
    FUZZ_CHECK(s.blt <= 1 && s.avx <= 1 && s.keylog <= 1 && s.q8 <= 1 && s.memlog <= 1);
    free(text);
    return 0;
}
