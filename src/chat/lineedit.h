/* lineedit.h - the input line: code points with a cursor, editing keys, and an Up/Down history.
 * Pure data: the caller decides which key does what (keymap) and how the line is drawn. */
#ifndef EFICHAT_LINEEDIT_H
#define EFICHAT_LINEEDIT_H

#include <stddef.h>
#include <stdint.h>

#define LINE_MAX_CPS 400
#define HISTORY_LINES 16

typedef struct {
    uint32_t cp[LINE_MAX_CPS];
    uint32_t len;
} LineText;

typedef struct {
    LineText cur;
    uint32_t cursor;               /* 0..cur.len */
    LineText hist[HISTORY_LINES];  /* oldest first */
    uint32_t hist_count;
    uint32_t hist_pos;             /* == hist_count while editing a fresh line */
    LineText draft;                /* the fresh line, kept while browsing history */
} LineEdit;

void lineedit_init(LineEdit *e);
int lineedit_insert(LineEdit *e, uint32_t cp); /* 0 when the line is full */
void lineedit_left(LineEdit *e);
void lineedit_right(LineEdit *e);
void lineedit_home(LineEdit *e);
void lineedit_end(LineEdit *e);
void lineedit_backspace(LineEdit *e);
void lineedit_delete(LineEdit *e);
void lineedit_clear(LineEdit *e);
void lineedit_history_prev(LineEdit *e); /* Up */
void lineedit_history_next(LineEdit *e); /* Down */
/* Writes the line as NUL-terminated UTF-8 (truncated to cap), adds it to the history when not empty and not a
 * repeat of the newest entry, and empties the line. Returns the bytes written. */
size_t lineedit_submit(LineEdit *e, char *out, size_t cap);

#endif
