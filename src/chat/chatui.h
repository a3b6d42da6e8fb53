/* chatui.h - composes the whole screen as a grid of character cells: the transcript view, the input line with its
 * cursor, the status bar, and the F1 help overlay. Cells carry palette indices, not pixels; src/gop/ paints them.
 * Pure C, so the host tests check the screen as text. */
#ifndef EFICHAT_CHATUI_H
#define EFICHAT_CHATUI_H

#include <stdint.h>
#include "transcript.h"
#include "lineedit.h"
#include "settings.h"

enum palette {
    PAL_BG, PAL_USER, PAL_MODEL, PAL_INFO, PAL_ERROR, PAL_INPUT_BG, PAL_INPUT, PAL_PROMPT, PAL_CURSOR_BG,
    PAL_STATUS_BG, PAL_STATUS, PAL_HELP_BG, PAL_HELP, PAL_WARN, PAL_COUNT
};

typedef struct {
    uint32_t cp;
    uint8_t fg, bg; /* enum palette */
} Cell;

typedef struct {
    uint32_t cols, rows;
    Cell *cells; /* (rows, cols) */
} Grid;

/* What the status bar shows besides the settings. */
typedef struct {
    const char *model_name;
    int random_model;      /* the embedded random test model: say so loudly */
    uint32_t tok_s_tenths; /* last reply, tokens per second x10 */
    uint32_t ctx_used, ctx_max;
    int generating;
    int show_help;
    const char *secure_boot; /* the firmware's Secure Boot state, shown in the help; NULL: not known */
    int no_key_hint;         /* no key has arrived since start: the empty input line says how to get one */
    uint32_t cores;          /* cores that run the model; shown when more than one */
    const char *mode_label;  /* shown instead of play/raw when set (a Llama-family model's chat template) */
} ChatStatus;

/* The hint shown in the empty input line while no key has arrived (and sent once to serial). */
extern const char *const chatui_no_key_hint;
/* Rows left for the transcript on a grid of `rows` rows. */
uint32_t chatui_transcript_rows(uint32_t rows);
/* Writes UTF-8 text from column x, cut at column `end` (control characters shown as a dot); returns the column after
 * it. */
uint32_t chatui_put_text(Grid *g, uint32_t x, uint32_t end, uint32_t y, const char *s, uint8_t fg, uint8_t bg);
/* Fills the whole grid. */
void chatui_compose(Grid *g, const Transcript *t, const LineEdit *e, const Settings *s, const ChatStatus *st);

#endif
