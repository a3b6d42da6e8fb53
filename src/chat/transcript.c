/* transcript.c - turns, word wrap and scrolling of the chat text (see transcript.h). Freestanding.
 * Word wrap: a '\n' ends a line; a line that reaches the width breaks after its last space, or mid-word when it
 * has none. Model turns are indented so they read apart from the user's. Appending re-wraps only the newest turn. */
#include "transcript.h"
#include "fmt.h"

#define MODEL_INDENT 2

int transcript_init(Transcript *t, void *mem, size_t bytes, uint32_t cols)
{
    fmt_zero(t, sizeof *t);
    if (bytes < 4096 || cols == 0)
        return 0;
    /* Half the block for text, a quarter each for turns and visual lines. */
    uintptr_t p = ((uintptr_t)mem + 7) & ~(uintptr_t)7;
    size_t usable = bytes - (p - (uintptr_t)mem);
    size_t quarter = usable / 4 & ~(size_t)7;
    t->turns = (Turn *)p;
    t->turn_cap = (uint32_t)(quarter / sizeof(Turn));
    t->lines = (VLine *)(p + quarter);
    t->line_cap = (uint32_t)(quarter / sizeof(VLine));
    t->text = (char *)(p + 2 * quarter);
    t->text_cap = (uint32_t)(usable - 2 * quarter);
    t->cols = cols;
    return 1;
}

void transcript_clear(Transcript *t)
{
    t->text_len = t->turn_count = t->line_count = t->scroll = 0;
}

static uint32_t indent_of(const Turn *turn) { return turn->kind == TURN_MODEL ? MODEL_INDENT : 0; }

static void push_line(Transcript *t, uint32_t turn, uint32_t start, uint32_t len, uint32_t cells, uint32_t indent)
{
    if (t->line_count == t->line_cap)
        return; /* make_room() keeps this from happening; a full table only loses the tail of a huge turn */
    t->lines[t->line_count++] = (VLine){turn, start, len, (uint16_t)cells, (uint16_t)indent};
}

/* Lays out turn i from scratch at the end of the line table. */
static void wrap_turn(Transcript *t, uint32_t i)
{
    Turn *turn = &t->turns[i];
    turn->first_line = t->line_count;
    /* A blank line separates turns, unless the previous turn already ended with one. */
    if (i > 0 && !(t->line_count > 0 && t->lines[t->line_count - 1].cells == 0))
        push_line(t, i, turn->start, 0, 0, 0);
    uint32_t indent = indent_of(turn);
    uint32_t width = t->cols > indent + 1 ? t->cols - indent : 1;
    const uint8_t *s = (const uint8_t *)t->text;
    uint32_t end = turn->start + turn->len;
    uint32_t line_start = turn->start, cells = 0;
    uint32_t brk = 0, brk_cells = 0; /* byte just after the last space on this line, and the cells before it */
    uint32_t pos = turn->start;
    while (pos < end) {
        uint32_t cp;
        size_t n = utf8_decode(s + pos, end - pos, &cp);
        if (n == 0)
            break; /* an incomplete sequence at the end: shown once its last byte arrives */
        if (cp == '\n') {
            push_line(t, i, line_start, pos - line_start, cells, indent);
            pos += 1;
            line_start = pos, cells = 0, brk = 0;
            continue;
        }
        if (cells == width) {
            if (cp == ' ') { /* the space at the edge becomes the break */
                push_line(t, i, line_start, pos - line_start, cells, indent);
                pos += 1;
                line_start = pos, cells = 0, brk = 0;
                continue;
            }
            if (brk > line_start) {
                push_line(t, i, line_start, brk - 1 - line_start, brk_cells, indent);
                cells -= brk_cells + 1;
                line_start = brk;
            } else {
                push_line(t, i, line_start, pos - line_start, cells, indent);
                line_start = pos, cells = 0;
            }
            brk = 0;
        }
        if (cp == ' ')
            brk = pos + 1, brk_cells = cells;
        cells++;
        pos += (uint32_t)n;
    }
    if (pos > line_start || (turn->len == 0))
        push_line(t, i, line_start, pos - line_start, cells, indent);
}

static void rewrap_from(Transcript *t, uint32_t first_turn)
{
    t->line_count = first_turn < t->turn_count ? t->turns[first_turn].first_line : t->line_count;
    for (uint32_t i = first_turn; i < t->turn_count; i++)
        wrap_turn(t, i);
}

void transcript_set_cols(Transcript *t, uint32_t cols)
{
    t->cols = cols ? cols : 1;
    t->line_count = 0;
    t->scroll = 0;
    for (uint32_t i = 0; i < t->turn_count; i++)
        wrap_turn(t, i);
}

/* Forgets the oldest half of the turns and compacts text, turns and lines. */
static void drop_oldest(Transcript *t)
{
    uint32_t drop = t->turn_count > 1 ? t->turn_count / 2 : t->turn_count;
    if (drop == 0)
        return;
    uint32_t cut = drop < t->turn_count ? t->turns[drop].start : t->text_len;
    fmt_copy(t->text, t->text + cut, t->text_len - cut);
    t->text_len -= cut;
    fmt_copy(t->turns, t->turns + drop, (t->turn_count - drop) * sizeof(Turn));
    t->turn_count -= drop;
    for (uint32_t i = 0; i < t->turn_count; i++)
        t->turns[i].start -= cut;
    t->dropped_turns += drop;
    transcript_set_cols(t, t->cols);
}

/* Makes sure `bytes` more text and a few more lines fit, forgetting old turns if they must. */
static void make_room(Transcript *t, size_t bytes)
{
    while (t->turn_count > 0 && (t->text_len + bytes > t->text_cap || t->turn_count + 1 >= t->turn_cap ||
                                 t->line_count + bytes + 2 >= t->line_cap))
        drop_oldest(t);
}

/* A reader who scrolled back keeps looking at the same lines while new ones arrive below. */
static void keep_view(Transcript *t, uint32_t lines_before)
{
    if (t->scroll > 0 && t->line_count > lines_before)
        t->scroll += t->line_count - lines_before;
}

void transcript_begin_turn(Transcript *t, enum turn_kind kind)
{
    make_room(t, 0);
    uint32_t before = t->line_count;
    if (t->turn_count >= t->turn_cap)
        return;
    Turn *turn = &t->turns[t->turn_count++];
    turn->kind = (uint8_t)kind;
    turn->start = t->text_len;
    turn->len = 0;
    turn->first_line = t->line_count;
    wrap_turn(t, t->turn_count - 1);
    keep_view(t, before);
}

void transcript_append(Transcript *t, const char *bytes, size_t n)
{
    if (t->turn_count == 0)
        transcript_begin_turn(t, TURN_INFO);
    if (n > t->text_cap / 2)
        n = t->text_cap / 2; /* nobody scrolls through more than half the block in one append */
    make_room(t, n);
    if (t->turn_count == 0)
        transcript_begin_turn(t, TURN_INFO);
    uint32_t before = t->line_count;
    fmt_copy(t->text + t->text_len, bytes, n);
    t->text_len += (uint32_t)n;
    t->turns[t->turn_count - 1].len += (uint32_t)n;
    rewrap_from(t, t->turn_count - 1);
    keep_view(t, before);
}

void transcript_add(Transcript *t, enum turn_kind kind, const char *text)
{
    transcript_begin_turn(t, kind);
    transcript_append(t, text, fmt_strlen(text));
}

static uint32_t max_scroll(const Transcript *t, uint32_t rows)
{
    return t->line_count > rows ? t->line_count - rows : 0;
}

void transcript_scroll_page(Transcript *t, uint32_t rows, int dir)
{
    uint32_t step = rows > 2 ? rows - 1 : 1;
    uint32_t s = t->scroll > max_scroll(t, rows) ? max_scroll(t, rows) : t->scroll;
    if (dir > 0)
        s = s + step > max_scroll(t, rows) ? max_scroll(t, rows) : s + step;
    else
        s = s > step ? s - step : 0;
    t->scroll = s;
}

void transcript_scroll_bottom(Transcript *t) { t->scroll = 0; }

uint32_t transcript_view_top(const Transcript *t, uint32_t rows)
{
    uint32_t s = t->scroll > max_scroll(t, rows) ? max_scroll(t, rows) : t->scroll;
    uint32_t bottom = t->line_count - s; /* one past the last line shown */
    return bottom > rows ? bottom - rows : 0;
}
