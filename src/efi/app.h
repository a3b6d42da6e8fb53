/* app.h - the running chat on UEFI: screen (or text console), keys, model, transcript and settings in one place.
 * main.c builds it; app.c runs the loop. */
#ifndef EFICHAT_APP_H
#define EFICHAT_APP_H

#include "efisys.h"
#include "../model.h"
#include "../sampler.h"
#include "../chat/chatui.h"
#include "../chat/convo.h"
#include "../gop/efi_screen.h"
#include "../gop/render.h"
#include "../input/efi_input.h"
#include "mp.h"

typedef struct {
    EFI_HANDLE image;
    Settings settings;
    SecureBootInfo secure_boot;
    int sse_was_off; /* the firmware started us with SSE off (U-Boot); entry.c switched it on */
    int no_key_hint_sent; /* the "no key yet" line went to serial once */

    /* the screen; graphics == 0 means the text console (ConOut) */
    int graphics;
    Screen screen;
    Font font;
    void *font_arena;
    Renderer renderer;
    Grid grid;
    Cell *shown;

    Input input;

    /* the model */
    Model model;
    RunState rs;
    void *rs_mem;
    void *q8_mem; /* the Q8 copy of the matrices, with config q8=1 */
    Mp mp;         /* the other cores (mp.c); mp.workers == 1: the BSP alone */
    void *par_mem; /* the workers' scratch (model_parallel_bytes) */
    void *dequant_mem; /* float copies of an int8 (version 2) model's matrices, when a float kernel runs it */
    Sampler sampler;
    struct LlamaRun *llama; /* a Llama-family model from \efichat\models\ (llama_app.h); NULL: the GPT one above */
    int random_model;
    uint32_t tail_newlines; /* '\n' at the end of the context, for play-mode framing */

    /* the chat */
    Transcript transcript;
    void *transcript_mem;
    LineEdit *edit;
    ChatStatus status;
    int generating;
    Reply reply;
    uint64_t reply_start_us, decode_start_us;
    uint64_t drawn_us; /* when draw() last put a frame on the screen */
    int dirty;

    /* the real-machine kit: report.c, shot.c, leave.c */
    struct ReportState *report; /* NULL until report_start() */
    uint32_t shot_next;         /* the screenshot number to try first */
    int leaving;                /* the leave question is open: the next key answers it */
} App;

/* app.c */
void app_run(App *a);
/* Shows what is on screen until a key is pressed (for errors that end the app). */
void app_run_fatal(App *a);
void app_info(App *a, enum turn_kind kind, const char *text);
void app_error(App *a, const char *text); /* on screen and as "efichat: error: ..." */
void app_settings_changed(App *a);
int app_layout(App *a); /* (re)builds the grid for the current font size; 0 when out of memory */

/* report.c: \efichat\report.txt (src/chat/report.h says what is in it), written at start and again after the
 * first reply; a failure is one error line, never the end of the chat. */
void report_start(App *a);
void report_reply(App *a, uint32_t tokens, uint64_t ms);
/* shot.c: F10, the screen as \efichat\shots\shotNNNN.bmp (never overwriting a file). */
void shot_save(App *a);
/* leave.c: F9 / Ctrl+Q asks "power off / restart / back"; the next key answers through leave_answer(). */
void leave_ask(App *a);
void leave_answer(App *a, const Key *k);

#endif
