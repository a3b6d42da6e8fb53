/* test_chatview.c - the chat's text model on the host: word wrap, scrolling, line editing and history, the screen
 * composition (status bar, input line, help), play-mode framing and the end-of-reply rule, settings steps. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "console_util.h"
#include "chat/transcript.h"
#include "chat/lineedit.h"
#include "chat/chatui.h"
#include "chat/convo.h"
#include "chat/settings.h"

static Transcript T;
static char mem[64 * 1024];

static void test_wrap(void)
{
    transcript_init(&T, mem, sizeof mem, 10);
    transcript_add(&T, TURN_USER, "hello world again");
    int ok = T.line_count == 3 && !strcmp(tline(&T, 0), "hello") && !strcmp(tline(&T, 1), "world") &&
             !strcmp(tline(&T, 2), "again");
    check_case(ok, "wrap_breaks_at_last_space", "%u lines", T.line_count);
    transcript_clear(&T);
    transcript_add(&T, TURN_USER, "abcdefghijklmnop");
    check_case(T.line_count == 2 && !strcmp(tline(&T, 0), "abcdefghij") && !strcmp(tline(&T, 1), "klmnop"),
               "wrap_long_word_hard_break", "%u lines", T.line_count);
    transcript_clear(&T);
    transcript_add(&T, TURN_USER, "a\n\nb\n");
    check_case(T.line_count == 3 && !strcmp(tline(&T, 1), "") && !strcmp(tline(&T, 2), "b"),
               "wrap_newlines_and_blank_lines", "%u lines", T.line_count);
    /* model turns are indented by two cells, wrap at 8 text cells, and follow a blank separator line */
    transcript_begin_turn(&T, TURN_MODEL);
    transcript_append(&T, "one two three", 13);
    uint32_t first = T.turns[1].first_line;
    check_case(!strcmp(tline(&T, first), "") && !strcmp(tline(&T, first + 1), "  one two") &&
                   !strcmp(tline(&T, first + 2), "  three"),
               "wrap_model_turn_indented", "'%s' '%s'", tline(&T, first + 1), tline(&T, first + 2));
    /* streaming byte by byte gives the same lines as one append */
    Transcript U;
    static char mem2[64 * 1024];
    transcript_init(&U, mem2, sizeof mem2, 10);
    transcript_add(&U, TURN_USER, "a\n\nb\n");
    transcript_begin_turn(&U, TURN_MODEL);
    const char *s = "one two three";
    for (size_t i = 0; s[i]; i++)
        transcript_append(&U, s + i, 1);
    int same = U.line_count == T.line_count;
    for (uint32_t i = 0; same && i < U.line_count; i++)
        same = !strcmp(tline(&U, i), tline(&T, i)) || 0;
    check_case(same, "wrap_streaming_equals_bulk", "%u vs %u lines", U.line_count, T.line_count);
    /* UTF-8: one cell per character; an incomplete character waits for its last byte */
    transcript_clear(&T);
    transcript_begin_turn(&T, TURN_USER);
    transcript_append(&T, "\xc3\xa9\xc3", 3);
    uint32_t cells1 = T.lines[T.line_count - 1].cells;
    transcript_append(&T, "\xa9", 1);
    check_case(cells1 == 1 && T.lines[T.line_count - 1].cells == 2, "wrap_utf8_cells", "%u then %u", cells1,
               T.lines[T.line_count - 1].cells);
    /* re-wrapping for a new width */
    transcript_clear(&T);
    transcript_add(&T, TURN_USER, "aaa bbb ccc ddd");
    transcript_set_cols(&T, 7);
    check_case(T.line_count == 2 && !strcmp(tline(&T, 0), "aaa bbb"), "wrap_set_cols", "%u lines", T.line_count);
}

static void test_scroll_and_overflow(void)
{
    transcript_init(&T, mem, sizeof mem, 20);
    char buf[32];
    for (int i = 0; i < 30; i++) {
        snprintf(buf, sizeof buf, "line %d", i);
        transcript_add(&T, TURN_INFO, buf); /* each turn: separator + text = 2 lines (first: 1) */
    }
    uint32_t rows = 5;
    uint32_t top = transcript_view_top(&T, rows);
    check_case(top == T.line_count - rows, "scroll_follows_newest", "top %u of %u", top, T.line_count);
    transcript_scroll_page(&T, rows, +1);
    check_case(transcript_view_top(&T, rows) == T.line_count - rows - 4, "scroll_pgup_one_page_less_a_line",
               "top %u", transcript_view_top(&T, rows));
    for (int i = 0; i < 100; i++)
        transcript_scroll_page(&T, rows, +1);
    check_case(transcript_view_top(&T, rows) == 0, "scroll_pgup_stops_at_start", "top %u",
               transcript_view_top(&T, rows));
    /* new text while scrolled back keeps the same lines in view */
    uint32_t before = transcript_view_top(&T, rows);
    transcript_add(&T, TURN_INFO, "new");
    check_case(transcript_view_top(&T, rows) == before, "scroll_stays_while_text_arrives", "%u vs %u",
               transcript_view_top(&T, rows), before);
    for (int i = 0; i < 100; i++)
        transcript_scroll_page(&T, rows, -1);
    check_case(T.scroll == 0, "scroll_pgdn_back_to_bottom", "scroll %u", T.scroll);
    /* a small block fills up: the oldest turns are forgotten, the newest stays whole */
    static char small[8192];
    Transcript S;
    transcript_init(&S, small, sizeof small, 40);
    for (int i = 0; i < 2000; i++) {
        snprintf(buf, sizeof buf, "turn %d says hello", i);
        transcript_add(&S, TURN_MODEL, buf);
    }
    const Turn *last = &S.turns[S.turn_count - 1];
    check_case(S.dropped_turns > 0 && S.text_len <= S.text_cap && last->len == strlen("turn 1999 says hello") &&
                   !memcmp(S.text + last->start, "turn 1999", 9),
               "transcript_full_drops_oldest", "dropped %u", S.dropped_turns);
}

static void test_lineedit(void)
{
    static LineEdit e;
    lineedit_init(&e);
    const char *w = "helo";
    for (int i = 0; w[i]; i++)
        lineedit_insert(&e, (uint8_t)w[i]);
    lineedit_left(&e);
    lineedit_insert(&e, 'l');          /* hel|lo */
    lineedit_home(&e);
    lineedit_delete(&e);               /* |ello */
    lineedit_insert(&e, 'H');          /* H|ello */
    lineedit_end(&e);
    lineedit_insert(&e, '!');
    lineedit_backspace(&e);
    lineedit_insert(&e, 0xE9);         /* é */
    char out[64];
    size_t n = lineedit_submit(&e, out, sizeof out);
    check_case(n == 7 && !strcmp(out, "Hello\xc3\xa9") && e.cur.len == 0, "edit_insert_move_delete", "'%s'", out);
    lineedit_insert(&e, 'x');
    lineedit_submit(&e, out, sizeof out);
    lineedit_insert(&e, 'd');          /* a draft */
    lineedit_history_prev(&e);
    lineedit_history_prev(&e);
    lineedit_history_prev(&e);         /* stays at the oldest */
    int first_ok = e.cur.len == 6 && e.cur.cp[0] == 'H';
    lineedit_history_next(&e);
    int second_ok = e.cur.len == 1 && e.cur.cp[0] == 'x';
    lineedit_history_next(&e);
    int draft_ok = e.cur.len == 1 && e.cur.cp[0] == 'd' && e.cursor == 1;
    check_case(first_ok && second_ok && draft_ok, "edit_history_up_down_keeps_draft", "%d %d %d", first_ok,
               second_ok, draft_ok);
    lineedit_clear(&e);
    lineedit_insert(&e, 'x');
    lineedit_submit(&e, out, sizeof out); /* a repeat is not stored twice */
    check_case(e.hist_count == 2, "edit_history_no_repeats", "%u entries", e.hist_count);
    for (int i = 0; i < LINE_MAX_CPS + 5; i++)
        lineedit_insert(&e, 'a');
    check_case(e.cur.len == LINE_MAX_CPS, "edit_line_full", "%u", e.cur.len);
    /* submit never splits a character when the output is short */
    lineedit_clear(&e);
    lineedit_insert(&e, 'a');
    lineedit_insert(&e, 0x20AC); /* 3 bytes */
    n = lineedit_submit(&e, out, 4);
    check_case(n == 1 && !strcmp(out, "a"), "edit_submit_truncates_whole_chars", "%zu", n);
}

static void test_compose(void)
{
    static Cell cells[40 * 8];
    Grid g = {40, 8, cells};
    static LineEdit e;
    lineedit_init(&e);
    transcript_init(&T, mem, sizeof mem, 40);
    transcript_add(&T, TURN_USER, "YOU:\nhi");
    transcript_begin_turn(&T, TURN_MODEL);
    transcript_append(&T, "ROMEO:\nWell met.\n\n", 18);
    Settings s;
    settings_default(&s);
    ChatStatus st = {"tiny", 1, 123, 180, 256, 0, 0, NULL, 0, 0, NULL};
    lineedit_insert(&e, 'a');
    lineedit_insert(&e, 'b');
    lineedit_left(&e);
    chatui_compose(&g, &T, &e, &s, &st);
    check_case(!strcmp(grid_row(&g, 0), "YOU:") && !strcmp(grid_row(&g, 1), "hi") && !strcmp(grid_row(&g, 3),
               "  ROMEO:") && !strcmp(grid_row(&g, 4), "  Well met."), "compose_transcript_rows", "'%s' '%s'",
               grid_row(&g, 0), grid_row(&g, 3));
    check_case(g.cells[0].fg == PAL_USER && g.cells[3 * 40 + 2].fg == PAL_MODEL, "compose_turn_colours", "%d %d",
               g.cells[0].fg, g.cells[3 * 40 + 2].fg);
    check_case(!strcmp(grid_row(&g, 6), "> ab") && g.cells[6 * 40 + 3].bg == PAL_CURSOR_BG, "compose_input_cursor",
               "'%s'", grid_row(&g, 6));
    Grid wide = {120, 8, malloc(120 * 8 * sizeof(Cell))};
    chatui_compose(&wide, &T, &e, &s, &st);
    check_case(strstr(grid_row(&wide, 7), "temp 0.80 | top-k 40 | top-p 0.95 | 12.3 tok/s | ctx 180/256 | play")
               != NULL, "compose_status_bar", "'%s'", grid_row(&wide, 7));
    check_case(strstr(grid_row(&wide, 7), "tiny (RANDOM TEST MODEL)") != NULL, "compose_random_model_label", "'%s'",
               grid_row(&wide, 7));
    check_case(!strncmp(grid_row(&g, 7), " T0.80 K40 P0.95 12.3t/s 180/256 play tiny (RAN", 40),
               "compose_status_compact_when_narrow", "'%s'", grid_row(&g, 7));
    st.cores = 4;
    chatui_compose(&wide, &T, &e, &s, &st);
    check_case(strstr(grid_row(&wide, 7), "| play | tiny | 4 cores") != NULL, "compose_status_cores", "'%s'",
               grid_row(&wide, 7));
    st.cores = 0;
    st.mode_label = "chatml"; /* a Llama-family model: its template where play/raw would be */
    chatui_compose(&wide, &T, &e, &s, &st);
    check_case(strstr(grid_row(&wide, 7), "| chatml | tiny") != NULL && !strstr(grid_row(&wide, 7), "play"),
               "compose_status_template_label", "'%s'", grid_row(&wide, 7));
    st.mode_label = NULL;
    /* no key since start: the empty input line says what to plug in; a typed character hides the hint */
    st.no_key_hint = 1;
    chatui_compose(&wide, &T, &e, &s, &st);
    int hint_with_text = strstr(grid_row(&wide, 6), "no key yet") != NULL;
    static LineEdit empty;
    lineedit_init(&empty);
    chatui_compose(&wide, &T, &empty, &s, &st);
    check_case(!hint_with_text && strstr(grid_row(&wide, 6), "> ") == grid_row(&wide, 6) &&
                   strstr(grid_row(&wide, 6), "no key yet: plug in a USB keyboard; a serial terminal works too"),
               "compose_no_key_hint_in_empty_input", "'%s'", grid_row(&wide, 6));
    st.no_key_hint = 0;
    /* 93 columns (1024x768 at 21 px): the full text would leave no room for the F1 hint, so the compact one */
    Grid mid = {93, 8, malloc(93 * 8 * sizeof(Cell))};
    st.random_model = 0;
    st.model_name = "shakespeare-4L256";
    chatui_compose(&mid, &T, &e, &s, &st);
    st.random_model = 1;
    st.model_name = "tiny";
    check_case(strstr(grid_row(&mid, 7), "F1 help") != NULL && strstr(grid_row(&mid, 7), "shakespeare-4L256"),
               "compose_status_keeps_f1_hint_at_93_columns", "'%s'", grid_row(&mid, 7));
    free(mid.cells);
    st.show_help = 1;
    wide.rows = 24;
    wide.cells = realloc(wide.cells, 120 * 24 * sizeof(Cell));
    chatui_compose(&wide, &T, &e, &s, &st);
    int found = 0;
    for (uint32_t y = 0; y < 24; y++)
        found |= strstr(grid_row(&wide, y), "F6 / F7        top-p -/+ 0.05") != NULL;
    check_case(found, "compose_help_overlay", "no help line");
    st.secure_boot = "on, started by shim";
    chatui_compose(&wide, &T, &e, &s, &st);
    int sb_row = -1, last_key_row = -1;
    for (uint32_t y = 0; y < 24; y++) {
        if (strstr(grid_row(&wide, y), "Secure Boot    on, started by shim"))
            sb_row = (int)y;
        if (strstr(grid_row(&wide, y), "Left Right Home End"))
            last_key_row = (int)y;
    }
    check_case(sb_row > 0 && last_key_row > 0 && sb_row == last_key_row + 2, "compose_help_secure_boot_line",
               "Secure Boot line on row %d, last key line on row %d", sb_row, last_key_row);
    free(wide.cells);
}

static void test_convo(void)
{
    Settings s;
    settings_default(&s);
    char out[128];
    convo_frame_user(&s, 2, "Good morrow", out, sizeof out);
    check_case(!strcmp(out, "YOU:\nGood morrow\n\n"), "frame_play_speech", "'%s'", out);
    convo_frame_user(&s, 0, "x", out, sizeof out);
    check_case(!strcmp(out, "\n\nYOU:\nx\n\n"), "frame_play_closes_open_speech", "'%s'", out);
    convo_frame_user(&s, 1, "x", out, sizeof out);
    check_case(!strcmp(out, "\nYOU:\nx\n\n"), "frame_play_after_one_newline", "'%s'", out);
    s.mode = MODE_RAW;
    convo_frame_user(&s, 0, "To be", out, sizeof out);
    check_case(!strcmp(out, "To be"), "frame_raw_as_typed", "'%s'", out);
    s.mode = MODE_PLAY;
    Reply r;
    reply_begin(&r, &s);
    const char *speech = "\nROMEO:\nAy.\n\nJULIET";
    int done_at = -1;
    for (int i = 0; speech[i]; i++)
        if (reply_push(&r, (uint8_t)speech[i])) {
            done_at = i;
            break;
        }
    check_case(done_at == 12, "reply_ends_at_blank_line", "ended at %d", done_at);
    s.max_reply = 5;
    reply_begin(&r, &s);
    int n = 0;
    while (!reply_push(&r, 'a'))
        n++;
    check_case(n + 1 == 5, "reply_max_length", "%d", n + 1);
}

static void test_settings(void)
{
    Settings s;
    settings_default(&s);
    char buf[96];
    Fmt f;
    fmt_init(&f, buf, sizeof buf);
    settings_serial_line(&s, &f);
    check_case(!strcmp(buf, "efichat: settings temp=0.80 top_k=40 top_p=0.95"), "settings_line", "'%s'", buf);
    for (int i = 0; i < 30; i++)
        settings_temp_step(&s, +1);
    int hi = s.temp == 200;
    for (int i = 0; i < 30; i++)
        settings_temp_step(&s, -1);
    check_case(hi && s.temp == 0, "settings_temp_clamped", "%u", s.temp);
    static const uint32_t ladder[] = {0, 1, 5, 10, 20, 40, 80, 160, 256, 256};
    s.top_k = 0;
    int ok = 1;
    for (int i = 1; i < 10; i++) {
        settings_top_k_step(&s, +1);
        ok &= s.top_k == ladder[i];
    }
    s.top_k = 30; /* off the ladder, from the config */
    settings_top_k_step(&s, -1);
    ok &= s.top_k == 20;
    check_case(ok, "settings_top_k_ladder", "%u", s.top_k);
    s.top_p = 95;
    settings_top_p_step(&s, +1);
    settings_top_p_step(&s, +1);
    int p_hi = s.top_p == 100;
    for (int i = 0; i < 40; i++)
        settings_top_p_step(&s, -1);
    check_case(p_hi && s.top_p == 5, "settings_top_p_clamped", "%u", s.top_p);
}

/* Reply bytes on the serial terminal: controls other than \n and \t could move the cursor or start an escape. */
static void test_terminal_bytes(void)
{
    int ok = 1;
    for (int b = 0; b < 256; b++) {
        char got = fmt_terminal_byte((char)b);
        int control = (b < 0x20 && b != '\n' && b != '\t') || b == 0x7F;
        ok &= control ? got == '?' : got == (char)b;
    }
    check_case(ok, "terminal_byte_masks_controls_only", "a byte was sent wrongly");
}

int main(void)
{
    test_terminal_bytes();
    test_wrap();
    test_scroll_and_overflow();
    test_lineedit();
    test_compose();
    test_convo();
    test_settings();
    return check_exit();
}
