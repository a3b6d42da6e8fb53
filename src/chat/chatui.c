/* chatui.c - the cell layout of the chat screen (see chatui.h). Freestanding.
 * Rows from the top: the transcript, then the input line, then the status bar. */
#include "chatui.h"
#include "fmt.h"

uint32_t chatui_transcript_rows(uint32_t rows) { return rows > 2 ? rows - 2 : 0; }

static void put(Grid *g, uint32_t x, uint32_t y, uint32_t cp, uint8_t fg, uint8_t bg)
{
    if (x < g->cols && y < g->rows)
        g->cells[y * g->cols + x] = (Cell){cp, fg, bg};
}

static void fill_row(Grid *g, uint32_t y, uint8_t fg, uint8_t bg)
{
    for (uint32_t x = 0; x < g->cols; x++)
        put(g, x, y, ' ', fg, bg);
}

uint32_t chatui_put_text(Grid *g, uint32_t x, uint32_t end, uint32_t y, const char *s, uint8_t fg, uint8_t bg)
{
    size_t n = fmt_strlen(s), i = 0;
    while (i < n && x < end) {
        uint32_t cp;
        size_t used = utf8_decode((const uint8_t *)s + i, n - i, &cp);
        if (used == 0)
            break;
        put(g, x++, y, text_display_cp(cp), fg, bg);
        i += used;
    }
    return x;
}

/* Writes UTF-8 text from column x; returns the column after it. */
static uint32_t put_text(Grid *g, uint32_t x, uint32_t y, const char *s, uint8_t fg, uint8_t bg)
{
    return chatui_put_text(g, x, UINT32_MAX, y, s, fg, bg);
}

static uint8_t turn_colour(uint8_t kind)
{
    switch (kind) {
    case TURN_USER: return PAL_USER;
    case TURN_MODEL: return PAL_MODEL;
    case TURN_ERROR: return PAL_ERROR;
    default: return PAL_INFO;
    }
}

static void compose_transcript(Grid *g, const Transcript *t, uint32_t rows)
{
    uint32_t top = transcript_view_top(t, rows);
    for (uint32_t y = 0; y < rows; y++) {
        fill_row(g, y, PAL_INFO, PAL_BG);
        uint32_t li = top + y;
        if (li >= t->line_count)
            continue;
        const VLine *l = &t->lines[li];
        uint8_t fg = turn_colour(t->turns[l->turn].kind);
        const uint8_t *s = (const uint8_t *)t->text + l->start;
        uint32_t x = l->indent, i = 0;
        while (i < l->len) {
            uint32_t cp;
            size_t used = utf8_decode(s + i, l->len - i, &cp);
            if (used == 0)
                break;
            put(g, x++, y, text_display_cp(cp), fg, PAL_BG);
            i += (uint32_t)used;
        }
    }
    /* A marker in the top-right corner says the view is scrolled back. */
    if (t->scroll > 0 && rows > 0 && g->cols > 12)
        put_text(g, g->cols - 12, 0, " [scrolled] ", PAL_STATUS, PAL_STATUS_BG);
}

const char *const chatui_no_key_hint = "no key yet: plug in a USB keyboard; a serial terminal works too";

static void compose_input(Grid *g, const LineEdit *e, uint32_t y, int generating, int no_key_hint)
{
    fill_row(g, y, PAL_INPUT, PAL_INPUT_BG);
    uint32_t x0 = put_text(g, 0, y, generating ? "~ " : "> ", PAL_PROMPT, PAL_INPUT_BG);
    if (g->cols <= x0 + 1)
        return;
    uint32_t room = g->cols - x0 - 1; /* the last column keeps room for the cursor at the end */
    uint32_t first = e->cursor > room ? e->cursor - room : 0;
    for (uint32_t i = first; i < e->cur.len && x0 + (i - first) < g->cols; i++)
        put(g, x0 + (i - first), y, text_display_cp(e->cur.cp[i]), PAL_INPUT, PAL_INPUT_BG);
    uint32_t cx = x0 + (e->cursor - first);
    if (cx < g->cols) {
        uint32_t cp = e->cursor < e->cur.len ? text_display_cp(e->cur.cp[e->cursor]) : ' ';
        put(g, cx, y, cp, PAL_INPUT_BG, PAL_CURSOR_BG);
    }
    if (generating && e->cur.len == 0)
        put_text(g, x0 + 2, y, "replying... Esc stops", PAL_PROMPT, PAL_INPUT_BG);
    else if (no_key_hint && e->cur.len == 0)
        put_text(g, x0 + 2, y, chatui_no_key_hint, PAL_WARN, PAL_INPUT_BG);
}

/* The status text; compact drops the labels for narrow screens (big fonts). */
static void status_text(Fmt *f, const Settings *s, const ChatStatus *st, int compact)
{
    fmt_str(f, compact ? " T" : " temp ");
    fmt_fixed(f, s->temp, 2);
    fmt_str(f, compact ? " K" : " | top-k ");
    fmt_u64(f, s->top_k);
    fmt_str(f, compact ? " P" : " | top-p ");
    fmt_fixed(f, s->top_p, 2);
    fmt_str(f, compact ? " " : " | ");
    fmt_fixed(f, st->tok_s_tenths, 1);
    fmt_str(f, compact ? "t/s " : " tok/s | ctx ");
    fmt_u64(f, st->ctx_used);
    fmt_char(f, '/');
    fmt_u64(f, st->ctx_max);
    if (st->mode_label) { /* a Llama-family model: its chat template instead of play/raw */
        fmt_str(f, compact ? " " : " | ");
        fmt_str(f, st->mode_label);
        fmt_str(f, compact ? " " : " | ");
    } else {
        fmt_str(f, s->mode == MODE_PLAY ? (compact ? " play " : " | play | ") : (compact ? " raw " : " | raw | "));
    }
    fmt_str(f, st->model_name ? st->model_name : "?");
    if (st->cores > 1) { /* the model runs on several cores (src/efi/mp.c) */
        fmt_str(f, compact ? " " : " | ");
        fmt_u64(f, st->cores);
        fmt_str(f, compact ? "c" : " cores");
    }
}

static void compose_status(Grid *g, const Settings *s, const ChatStatus *st, uint32_t y)
{
    char buf[256];
    Fmt f;
    const char *warn = st->random_model ? " (RANDOM TEST MODEL)" : "";
    /* The full text when it fits beside " F1 help " (10 columns with a gap), else the compact one: a 1024x768
     * screen (93 columns) used to keep the full text and drop the F1 hint, the one pointer to every key. */
    fmt_init(&f, buf, sizeof buf);
    status_text(&f, s, st, 0);
    if (f.len + fmt_strlen(warn) + 10 > g->cols) {
        fmt_init(&f, buf, sizeof buf);
        status_text(&f, s, st, 1);
        if (st->random_model)
            warn = " (RANDOM)";
    }
    fill_row(g, y, PAL_STATUS, PAL_STATUS_BG);
    uint32_t x = put_text(g, 0, y, buf, PAL_STATUS, PAL_STATUS_BG);
    x = put_text(g, x, y, warn, PAL_WARN, PAL_STATUS_BG);
    if (x + 10 <= g->cols)
        put_text(g, g->cols - 9, y, " F1 help ", PAL_STATUS, PAL_STATUS_BG);
}

static const char *const help_lines[] = {
    "efichat keys",
    "",
    "Enter          send the line",
    "Esc            stop the reply",
    "F1             this help (any key closes it)",
    "F2 / F3        temperature -/+ 0.1 (0 = greedy)",
    "F4 / F5        top-k down/up (0 = off)",
    "F6 / F7        top-p -/+ 0.05",
    "F8             play / raw mode",
    "F9 or Ctrl+Q   leave: power off / restart / back",
    "F10            screenshot to \\efichat\\shots",
    "Ctrl+L         new conversation",
    "Ctrl+= Ctrl+-  font size (also F12 / F11)",
    "PgUp / PgDn    scroll the conversation",
    "Up / Down      input history",
    "Left Right Home End Backspace Delete: edit",
};
#define HELP_N (sizeof help_lines / sizeof help_lines[0])

static void compose_help(Grid *g, uint32_t rows, const ChatStatus *st)
{
    /* the key lines, then a blank line and the firmware's Secure Boot state when it is known */
    char sb[64];
    Fmt f;
    fmt_init(&f, sb, sizeof sb);
    fmt_str(&f, "Secure Boot    ");
    fmt_str(&f, st->secure_boot ? st->secure_boot : "");
    uint32_t lines = HELP_N + (st->secure_boot ? 2 : 0);
    uint32_t w = 56, h = lines + 2; /* 56: the longest line, the Secure Boot one, fits */
    if (w > g->cols)
        w = g->cols;
    if (h > rows)
        h = rows;
    uint32_t x0 = (g->cols - w) / 2, y0 = (rows - h) / 2;
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++)
            put(g, x0 + x, y0 + y, ' ', PAL_HELP, PAL_HELP_BG);
        if (y < 1 || y - 1 >= lines)
            continue;
        const char *text = y - 1 < HELP_N ? help_lines[y - 1] : y - 1 == HELP_N ? "" : sb;
        put_text(g, x0 + 2, y0 + y, text, PAL_HELP, PAL_HELP_BG);
    }
}

void chatui_compose(Grid *g, const Transcript *t, const LineEdit *e, const Settings *s, const ChatStatus *st)
{
    if (g->rows == 0 || g->cols == 0)
        return;
    uint32_t rows = chatui_transcript_rows(g->rows);
    compose_transcript(g, t, rows);
    if (g->rows >= 2)
        compose_input(g, e, g->rows - 2, st->generating, st->no_key_hint);
    compose_status(g, s, st, g->rows - 1);
    if (st->show_help)
        compose_help(g, rows ? rows : g->rows, st);
}
