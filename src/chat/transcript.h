/* transcript.h - the text model of the chat: turns of UTF-8 bytes, word-wrapped into visual lines for a width in
 * cells, and a scroll position. It knows nothing about pixels or fonts; the pixel code asks it for rows.
 * All storage is one block handed in by the caller; when it fills up, the oldest turns are forgotten. */
#ifndef EFICHAT_TRANSCRIPT_H
#define EFICHAT_TRANSCRIPT_H

#include <stddef.h>
#include <stdint.h>

enum turn_kind { TURN_USER, TURN_MODEL, TURN_INFO, TURN_ERROR };

typedef struct {
    uint8_t kind;        /* enum turn_kind */
    uint32_t start, len; /* bytes in the text buffer */
    uint32_t first_line; /* its first visual line (a blank separator line when there is one) */
} Turn;

typedef struct {
    uint32_t turn;   /* which turn the line shows */
    uint32_t start;  /* first byte in the text buffer */
    uint32_t len;    /* bytes shown (a wrap drops the space it breaks at) */
    uint16_t cells;  /* cells those bytes fill */
    uint16_t indent; /* blank cells before the text */
} VLine;

typedef struct {
    char *text;
    uint32_t text_cap, text_len;
    Turn *turns;
    uint32_t turn_cap, turn_count;
    VLine *lines;
    uint32_t line_cap, line_count;
    uint32_t cols;   /* wrap width in cells */
    uint32_t scroll; /* visual lines between the bottom of the view and the newest line; 0 = follow */
    uint32_t dropped_turns; /* forgotten because the block was full */
} Transcript;

/* Carves text, turns and lines out of mem (bytes); fails (returns 0) when mem is too small to be useful. */
int transcript_init(Transcript *t, void *mem, size_t bytes, uint32_t cols);
void transcript_clear(Transcript *t);
/* Re-wraps everything for a new width (font size or mode change). */
void transcript_set_cols(Transcript *t, uint32_t cols);
void transcript_begin_turn(Transcript *t, enum turn_kind kind);
/* Appends bytes to the newest turn (opening an INFO turn if there is none) and re-wraps only that turn. */
void transcript_append(Transcript *t, const char *bytes, size_t n);
void transcript_add(Transcript *t, enum turn_kind kind, const char *text);

/* Scrolling for a view of `rows` lines: by pages (PgUp = +1) or to the bottom. */
void transcript_scroll_page(Transcript *t, uint32_t rows, int dir);
void transcript_scroll_bottom(Transcript *t);
/* The index of the first visual line a view of `rows` lines shows (it shows up to `rows` lines from there). */
uint32_t transcript_view_top(const Transcript *t, uint32_t rows);

#endif
