/* fuzz_transcript.c - the chat transcript driven by a script of operations, in a block small enough that old
 * turns are forgotten often. Input: block size (2 bytes, from 4 KiB), width (1 byte), then operations, each an
 * opcode byte and its operands (see the switch). Promises checked after every operation: the tables stay inside
 * their capacities, every turn and visual line points inside the text, no line is wider than the view, and the
 * view's top row leaves a whole view of existing lines. */
#include <string.h>

#include "chat/transcript.h"
#include "fuzz.h"

static void check(const Transcript *t, uint32_t rows)
{
    FUZZ_CHECK(t->text_len <= t->text_cap && t->turn_count <= t->turn_cap && t->line_count <= t->line_cap);
    for (uint32_t i = 0; i < t->turn_count; i++) {
        const Turn *turn = &t->turns[i];
        FUZZ_CHECK(turn->kind <= TURN_ERROR);
        FUZZ_CHECK(turn->start <= t->text_len && turn->len <= t->text_len - turn->start);
        FUZZ_CHECK(i + 1 == t->turn_count || turn->start + turn->len == t->turns[i + 1].start);
        FUZZ_CHECK(turn->first_line <= t->line_count);
    }
    for (uint32_t i = 0; i < t->line_count; i++) {
        const VLine *l = &t->lines[i];
        FUZZ_CHECK(l->turn < t->turn_count);
        const Turn *turn = &t->turns[l->turn];
        FUZZ_CHECK(l->start >= turn->start && l->start + l->len <= turn->start + turn->len);
        FUZZ_CHECK(l->cells <= l->len);
        FUZZ_CHECK(l->cells + l->indent <= (t->cols > l->indent + 1u ? t->cols : l->indent + 1u));
        FUZZ_CHECK(i == 0 || l->turn >= t->lines[i - 1].turn);
    }
    uint32_t top = transcript_view_top(t, rows);
    FUZZ_CHECK(top <= t->line_count);
    FUZZ_CHECK(t->line_count <= rows || top + rows <= t->line_count);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 3)
        return 0;
    size_t bytes = 4096 + ((size_t)data[0] | (size_t)data[1] << 8) % 16384;
    uint32_t cols = data[2];
    data += 3, size -= 3;
    void *mem = malloc(bytes); /* exactly the block: ASan sees any write past it */
    FUZZ_CHECK(mem != NULL);
    Transcript t;
    if (!transcript_init(&t, mem, bytes, cols)) {
        FUZZ_CHECK(cols == 0);
        free(mem);
        return 0;
    }
    uint32_t rows = 24;
    size_t i = 0;
    while (i < size) {
        uint8_t op = data[i++];
        uint8_t arg = i < size ? data[i] : 0;
        switch (op % 8) {
        case 0: transcript_begin_turn(&t, (enum turn_kind)(arg % 4)); i++; break;
        case 1: { /* append the next arg bytes (fewer at the end of the input) */
            size_t n = arg;
            i++;
            if (n > size - (i < size ? i : size))
                n = size - (i < size ? i : size);
            transcript_append(&t, (const char *)data + (i < size ? i : size), n);
            i += n;
            break;
        }
        case 2: transcript_set_cols(&t, arg); i++; break;
        case 3: rows = 1 + arg % 64; transcript_scroll_page(&t, rows, arg & 0x80 ? -1 : +1); i++; break;
        case 4: transcript_scroll_bottom(&t); break;
        case 5: { /* add a NUL-terminated text taken from the input */
            char text[256];
            size_t n = 0;
            i++;
            while (i < size && n < sizeof text - 1 && data[i] != 0)
                text[n++] = (char)data[i++];
            text[n] = 0;
            i++;
            transcript_add(&t, (enum turn_kind)(arg % 4), text);
            break;
        }
        case 6: transcript_clear(&t); break;
        default: rows = 1 + arg % 64; i++; break;
        }
        check(&t, rows);
    }
    free(mem);
    return 0;
}
