/* console_util.h - helpers the console host tests share: a grid row or a transcript line as a C string. */
#ifndef EFICHAT_CONSOLE_UTIL_H
#define EFICHAT_CONSOLE_UTIL_H
#include <string.h>
#include "chat/chatui.h"
#include "chat/fmt.h"

/* Row y of the grid as UTF-8, trailing spaces cut. */
static const char *grid_row(const Grid *g, uint32_t y)
{
    static char buf[2048];
    size_t n = 0;
    for (uint32_t x = 0; x < g->cols && n + 5 < sizeof buf; x++)
        n += utf8_encode(g->cells[y * g->cols + x].cp, buf + n);
    while (n && buf[n - 1] == ' ')
        n--;
    buf[n] = 0;
    return buf;
}

/* Visual line i of the transcript (its indent included) as a string. */
static const char *tline(const Transcript *t, uint32_t i)
{
    static char buf[2048];
    const VLine *l = &t->lines[i];
    size_t n = 0;
    for (uint32_t k = 0; k < l->indent; k++)
        buf[n++] = ' ';
    memcpy(buf + n, t->text + l->start, l->len);
    buf[n + l->len] = 0;
    return buf;
}
#endif
