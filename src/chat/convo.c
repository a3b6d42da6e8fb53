/* convo.c - conversation framing and the end-of-reply rule (see convo.h). Freestanding. */
#include "convo.h"

size_t convo_frame_user(const Settings *s, uint32_t tail_newlines, const char *text, char *out, size_t cap)
{
    Fmt f;
    fmt_init(&f, out, cap);
    if (s->mode == MODE_RAW) {
        fmt_str(&f, text);
        return f.len;
    }
    for (uint32_t i = tail_newlines; i < 2; i++)
        fmt_char(&f, '\n');
    fmt_str(&f, s->user_name);
    fmt_str(&f, ":\n");
    fmt_str(&f, text);
    fmt_str(&f, "\n\n");
    return f.len;
}

void reply_begin(Reply *r, const Settings *s)
{
    r->mode = s->mode;
    r->max_reply = s->max_reply ? s->max_reply : 1;
    r->tokens = r->newlines = 0;
    r->seen_text = 0;
}

int reply_push(Reply *r, uint8_t byte)
{
    r->tokens++;
    if (byte == '\n') {
        r->newlines++;
    } else {
        r->newlines = 0;
        r->seen_text = 1;
    }
    if (r->mode == MODE_PLAY && r->seen_text && r->newlines >= 2)
        return 1; /* the blank line that ends a speech */
    return r->tokens >= r->max_reply;
}
