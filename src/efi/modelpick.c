/* modelpick.c - the start-up model picker on the firmware (picker.h holds its logic and screens) and
 * models_choose(), the one call main.c makes: list \efichat\models, pick, remember the pick in efichat.cfg, read.
 * Serial lines (tests read them): "efichat: picker N entries", "efichat: picker K NAME MIB" per entry (K from 1),
 * "efichat: picker choice NAME" after each move, "efichat: picker selected NAME". */
#include "models.h"
#include "config.h"
#include "../chat/cfgedit.h"
#include "../chat/fmt.h"
#include "../chat/picker.h"

#define CFG_PATH L"\\efichat\\efichat.cfg"

static void picker_line(const char *what, const char *name)
{
    char buf[200];
    Fmt f;
    fmt_init(&f, buf, sizeof buf);
    fmt_str(&f, "efichat: picker ");
    fmt_str(&f, what);
    fmt_str(&f, name);
    mirror_line(buf);
}

static void list_lines(const Picker *p)
{
    char buf[200];
    Fmt f;
    fmt_init(&f, buf, sizeof buf);
    fmt_str(&f, "efichat: picker ");
    fmt_u64(&f, p->n);
    fmt_str(&f, " entries");
    mirror_line(buf);
    for (uint32_t i = 0; i < p->n; i++) {
        fmt_init(&f, buf, sizeof buf);
        fmt_str(&f, "efichat: picker ");
        fmt_u64(&f, i + 1);
        fmt_char(&f, ' ');
        fmt_str(&f, p->entries[i].name);
        fmt_char(&f, ' ');
        fmt_u64(&f, picker_mib_up(p->entries[i].bytes));
        mirror_line(buf);
    }
}

/* The text console has no list to look at: the numbered list and the keys, for a person at a terminal. */
static void text_list(const Picker *p)
{
    char buf[200];
    Fmt f;
    mirror_line("Choose a model (Up/Down then Enter, or its number; Esc: the built-in model):");
    for (uint32_t i = 0; i < p->n; i++) {
        fmt_init(&f, buf, sizeof buf);
        fmt_str(&f, i == p->sel ? "> " : "  ");
        fmt_u64(&f, i + 1);
        fmt_str(&f, ") ");
        fmt_str(&f, p->entries[i].name);
        fmt_str(&f, "  ");
        fmt_u64(&f, picker_mib_up(p->entries[i].bytes));
        fmt_str(&f, " MiB");
        mirror_line(buf);
    }
}

static void draw(App *a, const Picker *p)
{
    if (!a->graphics)
        return;
    picker_compose(&a->grid, p);
    render_frame(&a->renderer, &a->grid);
    fb_flush(&a->screen.fb);
    a->dirty = 1;
}

/* Runs the picker until a choice; returns the chosen entry's index. */
static uint32_t run_picker(App *a, Picker *p)
{
    /* a keyboard the firmware cannot read must not leave the machine here: without a first key the selection
     * loads after picker_wait seconds (a countdown in the hint) */
    uint64_t start = clock_ms(), wait_ms = (uint64_t)a->settings.picker_wait * 1000;
    p->countdown_s = a->settings.picker_wait;
    list_lines(p);
    if (!a->graphics)
        text_list(p);
    picker_line("choice ", p->entries[p->sel].name);
    if (p->countdown_s) {
        char buf[64];
        Fmt f;
        fmt_init(&f, buf, sizeof buf);
        fmt_str(&f, "efichat: picker wait ");
        fmt_u64(&f, p->countdown_s);
        fmt_str(&f, " s (then the selection loads; a key stops the count)");
        mirror_line(buf);
    }
    draw(a, p);
    for (;;) {
        Key k;
        if (p->countdown_s) {
            uint64_t gone = clock_ms() - start;
            if (gone >= wait_ms) {
                picker_line("auto ", p->entries[p->sel].name);
                picker_line("selected ", p->entries[p->sel].name);
                return p->sel;
            }
            uint32_t left = (uint32_t)((wait_ms - gone + 999) / 1000);
            if (left != p->countdown_s) {
                p->countdown_s = left;
                draw(a, p);
            }
        }
        while (input_poll(&a->input, &k)) {
            if (p->countdown_s) { /* any key stops the countdown */
                p->countdown_s = 0;
                draw(a, p);
            }
            enum picker_event ev = picker_key(p, &k);
            if (ev == PICK_MOVED) {
                picker_line("choice ", p->entries[p->sel].name);
                draw(a, p);
            } else if (ev == PICK_CHOSEN || ev == PICK_BUILTIN) {
                picker_line("selected ", p->entries[p->sel].name);
                return p->sel;
            }
        }
        input_wait(&a->input);
    }
}

static int same_bytes(const void *x, const void *y, size_t n)
{
    const uint8_t *p = x, *q = y;
    for (size_t i = 0; i < n; i++)
        if (p[i] != q[i])
            return 0;
    return 1;
}

static void cannot_remember(App *a, const char *phrase)
{
    char buf[160];
    Fmt f;
    fmt_init(&f, buf, sizeof buf);
    fmt_str(&f, "cannot remember the model in \\efichat\\efichat.cfg: ");
    fmt_str(&f, phrase);
    app_error(a, buf);
}

/* `model=NAME` into \efichat\efichat.cfg: the file's other bytes kept, created when absent, not written when it
 * already says so. A failure is one error line; the chat goes on. */
static void remember(App *a, const char *name)
{
    uint8_t *old = NULL;
    size_t old_len = 0;
    EFI_STATUS st = file_read_all(a->image, CFG_PATH, CONFIG_MAX_BYTES, &old, &old_len);
    if (EFI_ERROR(st) && st != EFI_NOT_FOUND) {
        cannot_remember(a, st == EFI_BAD_BUFFER_SIZE ? "the file is larger than 64 KiB" : file_error_phrase(st));
        return;
    }
    size_t cap = old_len + 8 * fmt_strlen(name) + 64; /* the new line, and a few model= lines growing */
    char *text = efi_alloc(cap);
    size_t len = text ? cfgedit_set_model((const char *)old, old_len, name, text, cap) : 0;
    if (len == 0)
        cannot_remember(a, "out of memory");
    else if (!old || len != old_len || !same_bytes(text, old, len)) {
        st = file_write_all(a->image, CFG_PATH, text, len, 1);
        if (EFI_ERROR(st))
            cannot_remember(a, file_error_phrase(st));
    }
    efi_free(text);
    efi_free(old);
}

static void say(App *a, const char *head, const char *name, const char *tail)
{
    char buf[256];
    Fmt f;
    fmt_init(&f, buf, sizeof buf);
    fmt_str(&f, head);
    fmt_str(&f, name);
    fmt_str(&f, tail);
    app_error(a, buf);
}

/* A llama2.c checkpoint's tokenizer into out (pool memory); 0 with an error line when there is none. */
#define TOKENIZER_MAX_BYTES (64u << 20)
static int read_tokenizer(App *a, const ModelFile *m, ModelChoice *out)
{
    static CHAR16 path[MODELS_PATH_CHARS];
    if (models_tokenizer_path(a->image, m, path, out->tokenizer_name) != EFI_SUCCESS) {
        say(a, m->name, " has no tokenizer: put its tokenizer.bin beside it in \\efichat\\models (or NAME.tokenizer"
                        ".bin for NAME.bin)", "; using the built-in model");
        out->tokenizer_name[0] = 0;
        return 0;
    }
    EFI_STATUS st = file_read_all(a->image, path, TOKENIZER_MAX_BYTES, &out->tokenizer, &out->tokenizer_len);
    if (EFI_ERROR(st)) {
        char buf[160];
        Fmt f;
        fmt_init(&f, buf, sizeof buf);
        fmt_str(&f, "'s tokenizer ");
        fmt_str(&f, out->tokenizer_name);
        fmt_str(&f, " cannot be read: ");
        fmt_str(&f, st == EFI_BAD_BUFFER_SIZE ? "larger than 64 MiB" : file_error_phrase(st));
        fmt_str(&f, "; using the built-in model");
        say(a, m->name, buf, "");
        out->tokenizer_name[0] = 0;
        return 0;
    }
    return 1;
}

int models_choose(App *a, const char *builtin_name, uint64_t builtin_bytes, uint64_t extra_bytes, ModelChoice *out)
{
    fmt_zero(out, sizeof *out);
    out->builtin = 1;
    ModelList *list = efi_alloc(sizeof *list);
    Picker *p = efi_alloc(sizeof *p);
    int ok = 0;
    if (!list || !p) {
        app_error(a, "out of memory for the list of \\efichat\\models; using the built-in model");
        goto done;
    }
    EFI_STATUS st = models_list(a->image, list);
    if (EFI_ERROR(st)) {
        say(a, "\\efichat\\models cannot be read: ", file_error_phrase(st), "; using the built-in model");
        goto done;
    }
    if (list->n == 0)
        goto done;
    if (list->left_out) {
        char buf[160];
        Fmt f;
        fmt_init(&f, buf, sizeof buf);
        fmt_str(&f, "\\efichat\\models holds more than 32 model files: ");
        fmt_u64(&f, list->left_out);
        fmt_str(&f, " (the last by name) are not listed");
        app_error(a, buf);
    }
    uint32_t pick = 0;
    if (list->n > 1) {
        picker_init(p);
        for (uint32_t i = 0; i < list->n; i++)
            picker_add(p, list->files[i].name, list->files[i].bytes);
        picker_add_builtin(p, builtin_name, builtin_bytes);
        picker_preselect(p, a->settings.model);
        pick = run_picker(a, p);
        remember(a, picker_is_builtin(p, pick) ? PICKER_BUILTIN_NAME : list->files[pick].name);
        if (picker_is_builtin(p, pick))
            goto done;
    }
    const ModelFile *m = &list->files[pick];
    if (models_read(a, m, extra_bytes, &out->data) != MODELS_READ_OK)
        goto done;
    /* a .bin is a llama2.c checkpoint with a tokenizer beside it, or an efichat model (magic EFCM), which has none */
    const uint8_t *d = out->data.bytes;
    int efcm = out->data.len >= 4 && d[0] == 'E' && d[1] == 'F' && d[2] == 'C' && d[3] == 'M';
    if (!m->gguf && !efcm && !read_tokenizer(a, m, out)) {
        models_bytes_free(&out->data);
        goto done;
    }
    out->file = *m;
    out->builtin = 0;
    ok = 1;
done:
    efi_free(p);
    efi_free(list);
    return ok;
}

void models_choice_line(const ModelChoice *c)
{
    char buf[200];
    Fmt f;
    fmt_init(&f, buf, sizeof buf);
    fmt_str(&f, "efichat: chosen ");
    fmt_str(&f, c->file.name);
    fmt_str(&f, " MiB=");
    fmt_u64(&f, picker_mib_up(c->data.len));
    if (c->tokenizer) {
        fmt_str(&f, " tokenizer=");
        fmt_str(&f, c->tokenizer_name);
        fmt_str(&f, " tokenizer_bytes=");
        fmt_u64(&f, c->tokenizer_len);
    }
    mirror_line(buf);
}

void models_choice_free(ModelChoice *c)
{
    models_bytes_free(&c->data);
    efi_free(c->tokenizer);
    fmt_zero(c, sizeof *c);
    c->builtin = 1;
}
