/* lineedit.c - input line editing and history (see lineedit.h). Freestanding. */
#include "lineedit.h"
#include "fmt.h"

void lineedit_init(LineEdit *e) { fmt_zero(e, sizeof *e); }

int lineedit_insert(LineEdit *e, uint32_t cp)
{
    if (e->cur.len >= LINE_MAX_CPS)
        return 0;
    for (uint32_t i = e->cur.len; i > e->cursor; i--)
        e->cur.cp[i] = e->cur.cp[i - 1];
    e->cur.cp[e->cursor++] = cp;
    e->cur.len++;
    return 1;
}

void lineedit_left(LineEdit *e)
{
    if (e->cursor > 0)
        e->cursor--;
}

void lineedit_right(LineEdit *e)
{
    if (e->cursor < e->cur.len)
        e->cursor++;
}

void lineedit_home(LineEdit *e) { e->cursor = 0; }
void lineedit_end(LineEdit *e) { e->cursor = e->cur.len; }

void lineedit_delete(LineEdit *e)
{
    if (e->cursor >= e->cur.len)
        return;
    for (uint32_t i = e->cursor; i + 1 < e->cur.len; i++)
        e->cur.cp[i] = e->cur.cp[i + 1];
    e->cur.len--;
}

void lineedit_backspace(LineEdit *e)
{
    if (e->cursor == 0)
        return;
    e->cursor--;
    lineedit_delete(e);
}

void lineedit_clear(LineEdit *e)
{
    e->cur.len = e->cursor = 0;
    e->hist_pos = e->hist_count;
}

static void show(LineEdit *e, const LineText *src)
{
    e->cur = *src;
    e->cursor = e->cur.len;
}

void lineedit_history_prev(LineEdit *e)
{
    if (e->hist_pos == 0)
        return;
    if (e->hist_pos == e->hist_count)
        e->draft = e->cur;
    e->hist_pos--;
    show(e, &e->hist[e->hist_pos]);
}

void lineedit_history_next(LineEdit *e)
{
    if (e->hist_pos >= e->hist_count)
        return;
    e->hist_pos++;
    show(e, e->hist_pos == e->hist_count ? &e->draft : &e->hist[e->hist_pos]);
}

static int same(const LineText *a, const LineText *b)
{
    if (a->len != b->len)
        return 0;
    for (uint32_t i = 0; i < a->len; i++)
        if (a->cp[i] != b->cp[i])
            return 0;
    return 1;
}

size_t lineedit_submit(LineEdit *e, char *out, size_t cap)
{
    Fmt f;
    fmt_init(&f, out, cap);
    for (uint32_t i = 0; i < e->cur.len; i++) {
        char u[4];
        size_t n = utf8_encode(e->cur.cp[i], u);
        if (f.len + n + 1 > cap)
            break; /* never split a character */
        fmt_bytes(&f, u, n);
    }
    if (e->cur.len > 0 && !(e->hist_count > 0 && same(&e->hist[e->hist_count - 1], &e->cur))) {
        if (e->hist_count == HISTORY_LINES) {
            fmt_copy(&e->hist[0], &e->hist[1], (HISTORY_LINES - 1) * sizeof(LineText));
            e->hist_count--;
        }
        e->hist[e->hist_count++] = e->cur;
    }
    lineedit_clear(e);
    return f.len;
}
