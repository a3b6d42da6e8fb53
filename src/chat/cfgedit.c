/* cfgedit.c - the `model=` line of efichat.cfg, rewritten in memory (see cfgedit.h). Freestanding. */
#include "cfgedit.h"
#include "fmt.h"

typedef struct {
    char *p;
    size_t len, cap;
    int full;
} Out;

static void put(Out *o, const char *s, size_t n)
{
    if (o->len + n > o->cap) {
        o->full = 1;
        return;
    }
    fmt_copy(o->p + o->len, s, n);
    o->len += n;
}

/* Whether the line (without its ending) is `model = ...` the way config_parse splits it: blanks, the key, blanks,
 * '='. */
static int is_model_line(const char *l, size_t n)
{
    size_t i = 0;
    while (i < n && (l[i] == ' ' || l[i] == '\t'))
        i++;
    if (n - i < 5 || l[i] != 'm' || l[i + 1] != 'o' || l[i + 2] != 'd' || l[i + 3] != 'e' || l[i + 4] != 'l')
        return 0;
    i += 5;
    while (i < n && (l[i] == ' ' || l[i] == '\t'))
        i++;
    return i < n && l[i] == '=';
}

size_t cfgedit_set_model(const char *in, size_t in_len, const char *name, char *out, size_t out_cap)
{
    Out o = {out, 0, out_cap, 0};
    size_t name_len = fmt_strlen(name), i = 0;
    int replaced = 0, crlf = 0;
    /* A UTF-8 byte order mark stays where it is; the first key starts after it. */
    if (in_len >= 3 && (unsigned char)in[0] == 0xEF && (unsigned char)in[1] == 0xBB && (unsigned char)in[2] == 0xBF) {
        put(&o, in, 3);
        i = 3;
    }
    while (i < in_len) {
        size_t start = i;
        while (i < in_len && in[i] != '\n')
            i++;
        size_t end = i; /* the line without '\n' */
        if (i < in_len)
            i++;        /* the '\n' */
        size_t body = end;
        if (body > start && in[body - 1] == '\r')
            body--, crlf = 1;
        if (is_model_line(in + start, body - start)) {
            put(&o, "model=", 6);
            put(&o, name, name_len);
            put(&o, in + body, i - body); /* the line's own ending, or none on a last line */
            replaced = 1;
        } else {
            put(&o, in + start, i - start);
        }
    }
    if (!replaced) {
        const char *eol = crlf ? "\r\n" : "\n";
        if (in_len > 0 && in[in_len - 1] != '\n')
            put(&o, eol, fmt_strlen(eol));
        put(&o, "model=", 6);
        put(&o, name, name_len);
        put(&o, eol, fmt_strlen(eol));
    }
    return o.full ? 0 : o.len;
}
