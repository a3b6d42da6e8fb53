/* picker.c - the model picker's list and the load screen as cells (see picker.h). Freestanding: no firmware, no
 * allocation; the entries live in the Picker. */
#include "picker.h"

void picker_init(Picker *p) { fmt_zero(p, sizeof *p); }

static int add(Picker *p, const char *head, const char *name, uint64_t bytes)
{
    if (p->n >= PICKER_MAX || p->has_builtin)
        return 0;
    PickerEntry *e = &p->entries[p->n++];
    Fmt f;
    fmt_init(&f, e->name, sizeof e->name);
    fmt_str(&f, head);
    fmt_str(&f, name);
    e->bytes = bytes;
    return 1;
}

int picker_add(Picker *p, const char *name, uint64_t bytes) { return add(p, "", name, bytes); }

int picker_add_builtin(Picker *p, const char *model_name, uint64_t bytes)
{
    if (!add(p, "built-in: ", model_name, bytes))
        return 0;
    p->has_builtin = 1;
    return 1;
}

int picker_is_builtin(const Picker *p, uint32_t i) { return p->has_builtin && i + 1 == p->n; }

int picker_preselect(Picker *p, const char *remembered)
{
    p->sel = 0;
    if (!remembered || !remembered[0])
        return 0;
    if (p->has_builtin && fmt_streq(remembered, PICKER_BUILTIN_NAME)) {
        p->sel = p->n - 1;
        return 1;
    }
    for (uint32_t i = 0; i < p->n; i++)
        if (!picker_is_builtin(p, i) && fmt_streq(p->entries[i].name, remembered)) {
            p->sel = i;
            return 1;
        }
    return 0;
}

enum picker_event picker_key(Picker *p, const Key *k)
{
    if (p->n == 0)
        return PICK_NONE;
    uint32_t old = p->sel;
    if (k->scan == KEY_UP && p->sel > 0)
        p->sel--;
    else if (k->scan == KEY_DOWN && p->sel + 1 < p->n)
        p->sel++;
    else if (k->scan == KEY_HOME || k->scan == KEY_PGUP)
        p->sel = 0;
    else if (k->scan == KEY_END || k->scan == KEY_PGDN)
        p->sel = p->n - 1;
    else if (k->scan == KEY_ESC) {
        if (!p->has_builtin)
            return PICK_NONE;
        p->sel = p->n - 1;
        return PICK_BUILTIN;
    } else if (k->scan == KEY_NONE && (k->cp == '\r' || k->cp == '\n'))
        return PICK_CHOSEN;
    else if (k->scan == KEY_NONE && k->cp >= '1' && k->cp <= '9' && k->cp - '1' < p->n) {
        p->sel = k->cp - '1';
        return PICK_CHOSEN;
    }
    return p->sel != old ? PICK_MOVED : PICK_NONE;
}

uint64_t picker_mib_up(uint64_t bytes) { return (bytes + (1u << 20) - 1) >> 20; }

/* ---- cells */

static void put(Grid *g, uint32_t x, uint32_t y, uint32_t cp, uint8_t fg, uint8_t bg)
{
    if (x < g->cols && y < g->rows)
        g->cells[y * g->cols + x] = (Cell){cp, fg, bg};
}

static void fill(Grid *g, uint32_t x0, uint32_t y0, uint32_t w, uint32_t h, uint8_t fg, uint8_t bg)
{
    for (uint32_t y = y0; y < y0 + h; y++)
        for (uint32_t x = x0; x < x0 + w; x++)
            put(g, x, y, ' ', fg, bg);
}

#define put_text chatui_put_text /* UTF-8 text from column x, cut at column `end` */

static uint32_t text_cols(const char *s)
{
    uint32_t cols = 0;
    for (const uint8_t *c = (const uint8_t *)s; *c; c++)
        cols += (*c & 0xC0) != 0x80; /* one column per code point */
    return cols;
}

static const char picker_title[] = "Choose a model (\\efichat\\models)";
static const char picker_hint[] = "Up/Down move, Enter load, Esc built-in";

void picker_compose(Grid *g, const Picker *p)
{
    fill(g, 0, 0, g->cols, g->rows, PAL_INFO, PAL_BG);
    if (g->cols < 8 || g->rows < 3)
        return;
    char hint[96];
    Fmt hf;
    fmt_init(&hf, hint, sizeof hint);
    fmt_str(&hf, picker_hint);
    if (p->countdown_s) { /* no key yet: the selection loads by itself */
        fmt_str(&hf, " (loads in ");
        fmt_u64(&hf, p->countdown_s);
        fmt_str(&hf, " s)");
    }
    /* the box: the widest line plus the size column, the entries that fit between the title and the hint */
    uint32_t w = text_cols(hint);
    if (text_cols(picker_title) > w)
        w = text_cols(picker_title);
    for (uint32_t i = 0; i < p->n; i++)
        if (text_cols(p->entries[i].name) + 14 > w)
            w = text_cols(p->entries[i].name) + 14; /* "  NAME  1234 MiB " */
    w += 4;
    if (w > g->cols)
        w = g->cols;
    uint32_t room = g->rows > 6 ? g->rows - 6 : 1; /* rows for entries */
    uint32_t shown = p->n < room ? p->n : room;
    uint32_t first = p->sel >= shown ? p->sel - shown + 1 : 0; /* scrolled so the selection is visible */
    uint32_t h = shown + 6 <= g->rows ? shown + 6 : g->rows;
    uint32_t x0 = (g->cols - w) / 2, y0 = (g->rows - h) / 2;
    fill(g, x0, y0, w, h, PAL_HELP, PAL_HELP_BG);
    put_text(g, x0 + 2, x0 + w, y0 + 1, picker_title, PAL_HELP, PAL_HELP_BG);
    for (uint32_t r = 0; r < shown && y0 + 3 + r < g->rows; r++) {
        uint32_t i = first + r, y = y0 + 3 + r;
        const PickerEntry *e = &p->entries[i];
        uint8_t fg = i == p->sel ? PAL_INPUT : PAL_HELP, bg = i == p->sel ? PAL_CURSOR_BG : PAL_HELP_BG;
        fill(g, x0 + 1, y, w - 2, 1, fg, bg);
        char size[24];
        Fmt f;
        fmt_init(&f, size, sizeof size);
        fmt_u64(&f, picker_mib_up(e->bytes));
        fmt_str(&f, " MiB");
        uint32_t sx = x0 + w - 2 - text_cols(size);
        put_text(g, x0 + 2, sx > x0 + 3 ? sx - 1 : x0 + 2, y, i == p->sel ? "> " : "  ", fg, bg);
        put_text(g, x0 + 4, sx > x0 + 5 ? sx - 1 : x0 + 4, y, e->name, fg, bg);
        put_text(g, sx, x0 + w - 1, y, size, fg, bg);
    }
    if (h >= 2)
        put_text(g, x0 + 2, x0 + w, y0 + h - 2, hint, PAL_HELP, PAL_HELP_BG);
}

/* ---- the load screen */

uint64_t load_mib_per_s(const LoadProgress *lp)
{
    return lp->ms ? (lp->done * 1000 / lp->ms) >> 20 : 0;
}

uint64_t load_eta_s(const LoadProgress *lp)
{
    if (lp->done == 0 || lp->done >= lp->total)
        return 0;
    /* time so far scaled by what is left: rounded up, so "eta 0 s" means done */
    return (lp->ms * (lp->total - lp->done) / lp->done + 999) / 1000;
}

static void numbers(Fmt *f, const LoadProgress *lp, const char *slash)
{
    fmt_u64(f, lp->done >> 20);
    fmt_str(f, slash);
    fmt_u64(f, picker_mib_up(lp->total));
    fmt_str(f, " MiB ");
    fmt_u64(f, load_mib_per_s(lp));
    fmt_str(f, " MiB/s eta ");
    fmt_u64(f, load_eta_s(lp));
    fmt_str(f, " s");
}

void load_progress_line(Fmt *f, const LoadProgress *lp)
{
    fmt_str(f, "efichat: load ");
    fmt_str(f, lp->name);
    fmt_char(f, ' ');
    numbers(f, lp, "/");
}

void load_compose(Grid *g, const LoadProgress *lp)
{
    fill(g, 0, 0, g->cols, g->rows, PAL_INFO, PAL_BG);
    if (g->cols < 12 || g->rows < 5)
        return;
    uint32_t w = g->cols > 64 ? 60 : g->cols - 4, x0 = (g->cols - w) / 2, y0 = (g->rows - 5) / 2;
    char buf[128];
    Fmt f;
    fmt_init(&f, buf, sizeof buf);
    fmt_str(&f, "Loading ");
    fmt_str(&f, lp->name);
    put_text(g, x0, x0 + w, y0, buf, PAL_INFO, PAL_BG);
    /* the bar: filled cells for what is read, in whole cells */
    uint32_t filled = lp->total ? (uint32_t)((lp->done >= lp->total ? w : (lp->done * w) / lp->total)) : w;
    fill(g, x0, y0 + 2, w, 1, PAL_INPUT, PAL_INPUT_BG);
    fill(g, x0, y0 + 2, filled, 1, PAL_INPUT, PAL_CURSOR_BG);
    fmt_init(&f, buf, sizeof buf);
    numbers(&f, lp, " / ");
    put_text(g, x0, x0 + w, y0 + 4, buf, PAL_INFO, PAL_BG);
    put_text(g, x0, x0 + w, y0 + 6, "Esc cancels (the built-in model then runs)", PAL_PROMPT, PAL_BG);
}
