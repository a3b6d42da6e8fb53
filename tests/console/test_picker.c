/* test_picker.c - the model picker's logic (moves, preselection, Esc, digits), its list and load screens as text,
 * the load progress line, the `model=` rewrite of efichat.cfg (LF, CR LF, no last newline, several lines, BOM)
 * and the config key itself. */
#include <string.h>
#include <stdio.h>
#include "check.h"
#include "chat/picker.h"
#include "chat/cfgedit.h"
#include "efi/config.h"

static Key scan(uint16_t s) { return (Key){s, 0, 0}; }
static Key ch(uint32_t c) { return (Key){KEY_NONE, 0, c}; }

static void three(Picker *p)
{
    picker_init(p);
    picker_add(p, "a.gguf", 150u << 20);
    picker_add(p, "b.bin", 1);
    picker_add(p, "c.gguf", (3u << 20) + 1);
    picker_add_builtin(p, "shakespeare", 4u << 20);
}

static void test_moves(void)
{
    Picker p;
    three(&p);
    check_case(p.n == 4 && !strcmp(p.entries[3].name, "built-in: shakespeare") && picker_is_builtin(&p, 3) &&
                   !picker_is_builtin(&p, 2),
               "picker_builtin_is_last", "n %u, last '%s'", p.n, p.entries[3].name);
    check_case(!picker_add(&p, "late.gguf", 1), "picker_no_entry_after_builtin", "added");
    Key up = scan(KEY_UP), down = scan(KEY_DOWN);
    int ok = picker_key(&p, &up) == PICK_NONE && p.sel == 0;      /* no wrap at the top */
    ok = ok && picker_key(&p, &down) == PICK_MOVED && p.sel == 1;
    Key end = scan(KEY_END), home = scan(KEY_HOME);
    ok = ok && picker_key(&p, &end) == PICK_MOVED && p.sel == 3;
    ok = ok && picker_key(&p, &down) == PICK_NONE && p.sel == 3;  /* no wrap at the bottom */
    ok = ok && picker_key(&p, &home) == PICK_MOVED && p.sel == 0;
    Key enter = ch('\r'), esc = scan(KEY_ESC), two = ch('2'), nine = ch('9'), x = ch('x');
    ok = ok && picker_key(&p, &x) == PICK_NONE && picker_key(&p, &nine) == PICK_NONE && p.sel == 0;
    ok = ok && picker_key(&p, &two) == PICK_CHOSEN && p.sel == 1;
    ok = ok && picker_key(&p, &enter) == PICK_CHOSEN && p.sel == 1;
    ok = ok && picker_key(&p, &esc) == PICK_BUILTIN && p.sel == 3;
    check_case(ok, "picker_keys_move_pick_and_escape", "sel %u", p.sel);
}

static void test_preselect(void)
{
    Picker p;
    three(&p);
    int hit = picker_preselect(&p, "c.gguf");
    check_case(hit && p.sel == 2, "picker_preselects_the_remembered_file", "hit %d sel %u", hit, p.sel);
    hit = picker_preselect(&p, "gone.gguf");
    check_case(!hit && p.sel == 0, "picker_vanished_model_preselects_first", "hit %d sel %u", hit, p.sel);
    hit = picker_preselect(&p, "built-in: shakespeare");
    check_case(!hit && p.sel == 0, "picker_model_matches_files_not_the_builtin_label", "hit %d sel %u", hit, p.sel);
    hit = picker_preselect(&p, "built-in");
    check_case(hit && p.sel == 3, "picker_model_built_in_preselects_the_builtin", "hit %d sel %u", hit, p.sel);
    hit = picker_preselect(&p, "");
    check_case(!hit && p.sel == 0, "picker_no_model_preselects_first", "hit %d sel %u", hit, p.sel);
}

/* A grid as text rows (ASCII cells only; others as '?'). */
static Cell cells[40 * 100];
static char rows[40][101];
static void as_text(const Grid *g)
{
    for (uint32_t y = 0; y < g->rows; y++) {
        for (uint32_t x = 0; x < g->cols; x++) {
            uint32_t cp = g->cells[y * g->cols + x].cp;
            rows[y][x] = cp < 128 ? (char)cp : '?';
        }
        rows[y][g->cols] = 0;
    }
}

static int find_row(const Grid *g, const char *s)
{
    for (uint32_t y = 0; y < g->rows; y++)
        if (strstr(rows[y], s))
            return (int)y;
    return -1;
}

static void test_compose(void)
{
    Picker p;
    three(&p);
    p.sel = 2;
    Grid g = {100, 40, cells};
    picker_compose(&g, &p);
    as_text(&g);
    int ya = find_row(&g, "  a.gguf"), yc = find_row(&g, "> c.gguf"), yb = find_row(&g, "built-in: shakespeare");
    int ok = ya > 0 && yc == ya + 2 && yb == ya + 3 && strstr(rows[ya], "150 MiB") && strstr(rows[yc], "4 MiB") &&
             strstr(rows[ya + 1], "1 MiB");
    /* the selected row is drawn in the cursor colours, the others not */
    const char *a = strstr(rows[yc], "c.gguf");
    uint32_t xc = a ? (uint32_t)(a - rows[yc]) : 0;
    ok = ok && g.cells[yc * 100 + xc].bg == PAL_CURSOR_BG && g.cells[ya * 100 + xc].bg == PAL_HELP_BG;
    /* centred: the box's left and right margins differ by at most one column */
    uint32_t l = 0, r = 0;
    while (l < 100 && g.cells[ya * 100 + l].bg == PAL_BG)
        l++;
    while (r < 100 && g.cells[ya * 100 + 99 - r].bg == PAL_BG)
        r++;
    ok = ok && (l > r ? l - r : r - l) <= 1 && find_row(&g, "Choose a model") >= 0 && find_row(&g, "Enter") >= 0;
    check_case(ok, "picker_list_is_centred_with_sizes_and_selection", "rows a %d c %d builtin %d margins %u %u: '%s'",
               ya, yc, yb, l, r, ya >= 0 ? rows[ya] : "");
    /* a countdown runs: the hint says when the selection loads by itself; without one it says nothing of it */
    int no_count = find_row(&g, "loads in") < 0;
    p.countdown_s = 12;
    picker_compose(&g, &p);
    as_text(&g);
    int yh = find_row(&g, "Enter load, Esc built-in (loads in 12 s)");
    check_case(no_count && yh > yc, "picker_hint_shows_the_countdown", "hint row %d", yh);

    /* more entries than rows: the selection stays in view */
    Picker big;
    picker_init(&big);
    char name[16];
    for (int i = 0; i < 32; i++) {
        snprintf(name, sizeof name, "m%02d.gguf", i);
        picker_add(&big, name, 1);
    }
    picker_add_builtin(&big, "x", 1);
    big.sel = 31;
    Grid small = {60, 12, cells};
    picker_compose(&small, &big);
    as_text(&small);
    check_case(find_row(&small, "> m31.gguf") >= 0 && find_row(&small, "m00.gguf") < 0,
               "picker_long_list_scrolls_to_the_selection", "m31 row %d", find_row(&small, "> m31.gguf"));
}

static void test_load(void)
{
    LoadProgress lp = {"llama-150m.gguf", 37u << 20, 150u << 20, 1321};
    char buf[160];
    Fmt f;
    fmt_init(&f, buf, sizeof buf);
    load_progress_line(&f, &lp);
    check_case(!strcmp(buf, "efichat: load llama-150m.gguf 37/150 MiB 28 MiB/s eta 5 s"), "load_progress_line",
               "'%s'", buf);
    LoadProgress done = {"x.bin", 5u << 20, 5u << 20, 100};
    check_case(load_eta_s(&done) == 0 && load_mib_per_s(&done) == 50, "load_done_has_no_eta", "eta %llu rate %llu",
               (unsigned long long)load_eta_s(&done), (unsigned long long)load_mib_per_s(&done));
    LoadProgress start = {"x.bin", 0, 5u << 20, 0};
    check_case(load_eta_s(&start) == 0 && load_mib_per_s(&start) == 0, "load_start_has_no_rate", "");
    Grid g = {100, 40, cells};
    load_compose(&g, &lp);
    as_text(&g);
    int yn = find_row(&g, "Loading llama-150m.gguf"), yx = find_row(&g, "37 / 150 MiB 28 MiB/s eta 5 s");
    /* the bar: 37/150 of 60 cells filled */
    uint32_t filled = 0;
    for (uint32_t x = 0; yn >= 0 && x < 100; x++)
        filled += g.cells[(yn + 2) * 100 + x].bg == PAL_CURSOR_BG;
    check_case(yn >= 0 && yx == yn + 4 && filled == 37 * 60 / 150 && find_row(&g, "Esc cancels") >= 0,
               "load_screen_name_bar_numbers", "name row %d numbers row %d filled %u", yn, yx, filled);
}

static void expect_edit(const char *name, const char *in, const char *model, const char *want)
{
    char out[512];
    size_t n = cfgedit_set_model(in, strlen(in), model, out, sizeof out);
    int ok = n == strlen(want) && !memcmp(out, want, n);
    out[n < sizeof out ? n : sizeof out - 1] = 0;
    check_case(ok, name, "got '%s'", out);
}

static void test_cfgedit(void)
{
    expect_edit("cfgedit_empty_file", "", "a.gguf", "model=a.gguf\n");
    expect_edit("cfgedit_lf_append", "temp=0.5\ntop_k=20\n", "a.gguf", "temp=0.5\ntop_k=20\nmodel=a.gguf\n");
    expect_edit("cfgedit_crlf_append", "temp=0.5\r\ntop_k=20\r\n", "a.gguf", "temp=0.5\r\ntop_k=20\r\nmodel=a.gguf\r\n");
    expect_edit("cfgedit_no_last_newline_lf", "temp=0.5\ntop_k=20", "a.gguf", "temp=0.5\ntop_k=20\nmodel=a.gguf\n");
    expect_edit("cfgedit_no_last_newline_crlf", "temp=0.5\r\ntop_k=20", "a.gguf",
                "temp=0.5\r\ntop_k=20\r\nmodel=a.gguf\r\n");
    expect_edit("cfgedit_replace_keeps_other_lines", "# c\r\nmodel=old.bin\r\ntemp=0.5\n", "new.gguf",
                "# c\r\nmodel=new.gguf\r\ntemp=0.5\n");
    expect_edit("cfgedit_replace_last_line_without_newline", "temp=0.5\n  model = old.bin", "n.gguf",
                "temp=0.5\nmodel=n.gguf");
    expect_edit("cfgedit_several_model_lines_all_replaced", "model=a\nx=1\nmodel=b\r\n", "c.gguf",
                "model=c.gguf\nx=1\nmodel=c.gguf\r\n");
    expect_edit("cfgedit_comments_and_lookalikes_untouched", "#model=a\n; model=b\nmodels=c\nmodel_x=1\n", "d.gguf",
                "#model=a\n; model=b\nmodels=c\nmodel_x=1\nmodel=d.gguf\n");
    expect_edit("cfgedit_bom_kept", "\xef\xbb\xbfmodel=a\r\n", "b.gguf", "\xef\xbb\xbfmodel=b.gguf\r\n");
    char out[8];
    check_case(cfgedit_set_model("temp=0.5\n", 9, "a.gguf", out, sizeof out) == 0, "cfgedit_too_small_is_0", "");
}

static unsigned problems;
static void report(void *ctx, unsigned line, const char *msg)
{
    (void)ctx, (void)line, (void)msg;
    problems++;
}

static void test_config_key(void)
{
    Settings s;
    settings_default(&s);
    problems = 0;
    const char *good = "model=llama-150m.gguf\r\n";
    config_parse(good, strlen(good), &s, report, NULL);
    check_case(problems == 0 && !strcmp(s.model, "llama-150m.gguf"), "config_model_key", "%u problems, '%s'",
               problems, s.model);
    const char *bad[] = {"model=\n", "model=a/b.gguf\n", "model=..\\x.bin\n", "model=c:x.gguf\n", "model=a\tb\n"};
    for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++)
        config_parse(bad[i], strlen(bad[i]), &s, report, NULL);
    char longer[200] = "model=";
    memset(longer + 6, 'x', 130);
    config_parse(longer, strlen(longer), &s, report, NULL);
    check_case(problems == 6 && !strcmp(s.model, "llama-150m.gguf"), "config_model_bad_values_refused",
               "%u problems, '%s'", problems, s.model);
}

int main(void)
{
    test_moves();
    test_preselect();
    test_compose();
    test_load();
    test_cfgedit();
    test_config_key();
    return check_exit();
}
