/* settings.c - defaults and hotkey steps of the chat settings (see settings.h). Freestanding. */
#include "settings.h"

static const uint32_t top_k_ladder[] = {0, 1, 5, 10, 20, 40, 80, 160, 256};
#define LADDER_N (sizeof top_k_ladder / sizeof top_k_ladder[0])

void settings_default(Settings *s)
{
    fmt_zero(s, sizeof *s);
    s->temp = 80;
    s->top_k = 40;
    s->top_p = 95;
    s->mode = MODE_PLAY;
    s->max_reply = 400;
    fmt_copy(s->user_name, "YOU", 4);
    s->input = -1;
    s->avx = 1;
    s->chat_template = -1;
    s->picker_wait = 15; /* a machine whose keyboard the firmware cannot read still starts the remembered model */
    s->q8 = 1; /* the integer kernel: ~2x faster under QEMU and on memory-bound real CPUs, ~0.0002 nats/byte */
}

void settings_temp_step(Settings *s, int dir)
{
    int t = (int)s->temp + (dir > 0 ? 10 : -10);
    s->temp = t < 0 ? 0 : t > TEMP_MAX ? TEMP_MAX : (uint32_t)t;
}

void settings_top_k_step(Settings *s, int dir)
{
    /* From a value off the ladder (set in the config file) step to the neighbouring rung. */
    if (dir > 0) {
        for (unsigned i = 0; i < LADDER_N; i++)
            if (top_k_ladder[i] > s->top_k) {
                s->top_k = top_k_ladder[i];
                return;
            }
    } else {
        for (unsigned i = LADDER_N; i-- > 0;)
            if (top_k_ladder[i] < s->top_k) {
                s->top_k = top_k_ladder[i];
                return;
            }
    }
}

void settings_top_p_step(Settings *s, int dir)
{
    int p = (int)s->top_p + (dir > 0 ? 5 : -5);
    s->top_p = p < TOP_P_MIN ? TOP_P_MIN : p > TOP_P_MAX ? TOP_P_MAX : (uint32_t)p;
}

void settings_serial_line(const Settings *s, Fmt *f)
{
    fmt_str(f, "efichat: settings temp=");
    fmt_fixed(f, s->temp, 2);
    fmt_str(f, " top_k=");
    fmt_u64(f, s->top_k);
    fmt_str(f, " top_p=");
    fmt_fixed(f, s->top_p, 2);
}
