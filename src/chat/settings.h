/* settings.h - the user-tunable knobs of a chat (sampling, framing, font) and the hotkey steps that change them.
 * Numbers the user sees are kept as integers in hundredths so "0.80" never drifts to 0.7999. */
#ifndef EFICHAT_SETTINGS_H
#define EFICHAT_SETTINGS_H

#include <stdint.h>
#include "fmt.h"

enum chat_mode { MODE_PLAY = 0, MODE_RAW = 1 };

#define SETTINGS_NAME_BYTES 32
#define SETTINGS_MODEL_BYTES 128 /* config model=: a file name in \efichat\models (UTF-8, NUL included) */
#define TEMP_MAX 200     /* hundredths: 2.00 */
#define TOP_P_MIN 5      /* hundredths: 0.05 */
#define TOP_P_MAX 100
#define FONT_PX_MIN 10
#define FONT_PX_MAX 96
#define REPLY_MAX_LIMIT 4096

typedef struct {
    uint32_t temp;      /* hundredths, 0 = greedy */
    uint32_t top_k;     /* 0 = off, else 1..256 */
    uint32_t top_p;     /* hundredths, 5..100 */
    uint64_t seed;      /* 0 = from the clock */
    uint32_t font_px;   /* 0 = chosen from the screen */
    uint32_t mode;      /* enum chat_mode */
    uint32_t max_reply; /* tokens per reply */
    char user_name[SETTINGS_NAME_BYTES]; /* speaker line of the user's speeches in play mode */
    /* the machine, read once at start */
    uint32_t screen_w, screen_h; /* 0 = auto mode choice */
    int32_t input;               /* -1 auto, 0 SimpleTextInputEx, 1 SimpleTextInput, 2 serial (enum input_source) */
    uint32_t blt;                /* 1 = always flush through Blt() */
    uint32_t avx;                /* 0 = never enable AVX state in CR4/XCR0 */
    uint32_t keylog;             /* 1 = mirror every key as "efichat: key scan=.. char=.. mods=.." */
    uint32_t q8;                 /* 1 (default) = the integer Q8 kernel, 0 = float (the host CLI's default) */
    uint32_t memlog;             /* 1 = "efichat: memory free_kib=.. ctx_slides=.." after every reply (make soak) */
    uint32_t cores;              /* cores that run the model: 0 = every core the firmware offers, 1 = the BSP only */
    int32_t chat_template;       /* a Llama-family model's chat template (enum chat_template), -1 = from its file */
    char model[SETTINGS_MODEL_BYTES]; /* the model picker's last choice (a name in \efichat\models); "" = none */
    uint32_t picker_wait;        /* seconds the picker waits for a first key before loading its selection; 0 = forever */
} Settings;

void settings_default(Settings *s);
void settings_temp_step(Settings *s, int dir);  /* +-0.10, clamped to 0..2 */
void settings_top_k_step(Settings *s, int dir); /* along 0,1,5,10,20,40,80,160,256 */
void settings_top_p_step(Settings *s, int dir); /* +-0.05, clamped to 0.05..1 */
/* "efichat: settings temp=0.80 top_k=40 top_p=0.95" (no newline). */
void settings_serial_line(const Settings *s, Fmt *f);

#endif
