/* models.c - model files on the boot volume (see models.h): listing \efichat\models, the free memory, and the
 * chunked read with its progress screen. It only moves bytes; it never parses a model. */
#include "models.h"
#include "../chat/fmt.h"
#include "../chat/picker.h"

/* ---- names: UCS-2 from FAT, compared without case for the ASCII letters */

static CHAR16 lower16(CHAR16 c) { return c >= 'A' && c <= 'Z' ? (CHAR16)(c + 32) : c; }

static size_t len16(const CHAR16 *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return n;
}

static int ends_with(const CHAR16 *s, const char *suffix)
{
    size_t n = len16(s), k = fmt_strlen(suffix);
    if (n < k)
        return 0;
    for (size_t i = 0; i < k; i++)
        if (lower16(s[n - k + i]) != (CHAR16)suffix[i])
            return 0;
    return 1;
}

static int starts_with(const CHAR16 *s, const char *prefix)
{
    for (size_t i = 0; prefix[i]; i++)
        if (lower16(s[i]) != (CHAR16)prefix[i]) /* a shorter s stops at its NUL, which matches no letter */
            return 0;
    return 1;
}

/* A model file by its name: .gguf or .bin, not a tokenizer. */
static int is_model_name(const CHAR16 *name)
{
    if (!ends_with(name, ".gguf") && !ends_with(name, ".bin"))
        return 0;
    return !starts_with(name, "tokenizer") && !ends_with(name, ".tokenizer.bin");
}

/* UCS-2 (surrogate pairs joined) to UTF-8, cut at a character boundary to fit cap. */
static void utf8_from16(char *out, size_t cap, const CHAR16 *s)
{
    size_t o = 0;
    for (size_t i = 0; s[i]; i++) {
        uint32_t cp = s[i];
        if (cp >= 0xD800 && cp < 0xDC00 && s[i + 1] >= 0xDC00 && s[i + 1] < 0xE000)
            cp = 0x10000 + ((cp - 0xD800) << 10) + (s[++i] - 0xDC00);
        char u[4];
        size_t k = utf8_encode(cp, u);
        if (o + k + 1 > cap)
            break;
        fmt_copy(out + o, u, k);
        o += k;
    }
    out[o] = 0;
}

/* Byte order of the display names, letters without case: "B.gguf" sorts between "a.bin" and "c.bin". */
static int name_before(const char *a, const char *b)
{
    for (;; a++, b++) {
        char x = *a >= 'A' && *a <= 'Z' ? (char)(*a + 32) : *a, y = *b >= 'A' && *b <= 'Z' ? (char)(*b + 32) : *b;
        if (x != y || !x)
            return (unsigned char)x < (unsigned char)y;
    }
}

static void path_join(CHAR16 *out, size_t cap, const CHAR16 *dir, const CHAR16 *name)
{
    size_t o = 0;
    for (size_t i = 0; dir[i] && o + 1 < cap; i++)
        out[o++] = dir[i];
    if (o + 1 < cap)
        out[o++] = '\\';
    for (size_t i = 0; name[i] && o + 1 < cap; i++)
        out[o++] = name[i];
    out[o] = 0;
}

/* Directory entries: EFI_FILE_INFO and a FAT long name (255 UCS-2 characters) with room to spare. */
typedef union {
    EFI_FILE_INFO info;
    uint8_t raw[sizeof(EFI_FILE_INFO) + 1024];
} InfoBuf;

/* Puts f into the sorted list; when the list is full the last name by order falls out. */
static void list_insert(ModelList *l, const ModelFile *f)
{
    uint32_t at = l->n;
    while (at > 0 && name_before(f->name, l->files[at - 1].name))
        at--;
    if (l->n == MODELS_MAX) {
        l->left_out++;
        if (at == MODELS_MAX)
            return;
        l->n--;
    }
    for (uint32_t i = l->n; i > at; i--)
        l->files[i] = l->files[i - 1];
    l->files[at] = *f;
    l->n++;
}

EFI_STATUS models_list(EFI_HANDLE image, ModelList *out)
{
    fmt_zero(out, sizeof *out);
    EFI_FILE_HANDLE root, dir;
    EFI_STATUS st = file_open_root(image, &root);
    if (EFI_ERROR(st))
        return st == EFI_NOT_FOUND ? EFI_SUCCESS : st; /* not started from a file system: no files */
    st = root->Open(root, &dir, MODELS_DIR, EFI_FILE_MODE_READ, 0);
    root->Close(root);
    if (st == EFI_NOT_FOUND)
        return EFI_SUCCESS;
    if (EFI_ERROR(st))
        return st;
    static InfoBuf u; /* 1.5 KiB: kept off the firmware's small stack */
    static ModelFile f;
    for (;;) {
        UINTN n = sizeof u;
        st = dir->Read(dir, &n, &u.info);
        if (EFI_ERROR(st) || n == 0) /* n == 0: the end of the folder (also what a plain file answers) */
            break;
        if ((u.info.Attribute & EFI_FILE_DIRECTORY) || !is_model_name(u.info.FileName))
            continue;
        fmt_zero(&f, sizeof f);
        path_join(f.path, MODELS_PATH_CHARS, MODELS_DIR, u.info.FileName);
        utf8_from16(f.name, sizeof f.name, u.info.FileName);
        f.bytes = u.info.FileSize;
        f.gguf = ends_with(u.info.FileName, ".gguf");
        list_insert(out, &f);
    }
    dir->Close(dir);
    return EFI_ERROR(st) ? st : EFI_SUCCESS;
}

EFI_STATUS models_tokenizer_path(EFI_HANDLE image, const ModelFile *m, CHAR16 out[MODELS_PATH_CHARS],
                                 char name[MODELS_NAME_BYTES])
{
    /* X.bin -> X.tokenizer.bin: the path without ".bin", then the suffix */
    size_t n = len16(m->path);
    static const char suffix[] = ".tokenizer.bin";
    if (n >= 4 && n - 4 + sizeof suffix <= MODELS_PATH_CHARS) {
        for (size_t i = 0; i < n - 4; i++)
            out[i] = m->path[i];
        for (size_t i = 0; i < sizeof suffix; i++)
            out[n - 4 + i] = (CHAR16)suffix[i];
        if (file_exists(image, out) == EFI_SUCCESS) {
            utf8_from16(name, MODELS_NAME_BYTES, out + len16(MODELS_DIR) + 1); /* after "\efichat\models\" */
            return EFI_SUCCESS;
        }
    }
    path_join(out, MODELS_PATH_CHARS, MODELS_DIR, L"tokenizer.bin");
    fmt_copy(name, "tokenizer.bin", sizeof "tokenizer.bin");
    return file_exists(image, out) == EFI_SUCCESS ? EFI_SUCCESS : EFI_NOT_FOUND;
}

/* ---- memory */

void models_free_memory(MemFree *out)
{
    out->total = out->largest = 0;
    UINTN size = 0, key, desc_size;
    UINT32 version;
    if (g_bs->GetMemoryMap(&size, NULL, &key, &desc_size, &version) != EFI_BUFFER_TOO_SMALL)
        return;
    size += 4 * desc_size; /* the allocation below may split a region */
    uint8_t *map = efi_alloc(size);
    if (!map)
        return;
    if (!EFI_ERROR(g_bs->GetMemoryMap(&size, (EFI_MEMORY_DESCRIPTOR *)map, &key, &desc_size, &version))) {
        /* Runs are joined across descriptors that touch (the map is not promised to be sorted, so only neighbours
         * in map order are joined; OVMF's map is sorted). */
        uint64_t run = 0, run_end = 0;
        for (UINTN off = 0; off + desc_size <= size; off += desc_size) {
            EFI_MEMORY_DESCRIPTOR *d = (EFI_MEMORY_DESCRIPTOR *)(map + off);
            if (d->Type != EfiConventionalMemory) {
                run = 0;
                continue;
            }
            uint64_t bytes = d->NumberOfPages << 12;
            out->total += bytes;
            run = run && d->PhysicalStart == run_end ? run + bytes : bytes;
            run_end = d->PhysicalStart + bytes;
            if (run > out->largest)
                out->largest = run;
        }
    }
    efi_free(map);
}

/* ---- the read */

void models_bytes_free(ModelBytes *b)
{
    if (b->bytes)
        g_bs->FreePages((EFI_PHYSICAL_ADDRESS)(uintptr_t)b->bytes, b->pages);
    fmt_zero(b, sizeof *b);
}

static void error_line(App *a, const char *name, const char *what, const char *phrase)
{
    char buf[256];
    Fmt f;
    fmt_init(&f, buf, sizeof buf);
    fmt_str(&f, name);
    fmt_str(&f, what);
    if (phrase) {
        fmt_str(&f, ": ");
        fmt_str(&f, phrase);
    }
    fmt_str(&f, "; using the built-in model");
    app_error(a, buf);
}

#define PROGRESS_LINE_MS 500 /* at most two serial progress lines a second */
#define PROGRESS_DRAW_MS 100

static void show_progress(App *a, const LoadProgress *lp, int line)
{
    if (a->graphics) {
        load_compose(&a->grid, lp);
        render_frame(&a->renderer, &a->grid);
        fb_flush(&a->screen.fb);
        a->dirty = 1; /* the chat screen must be drawn whole again afterwards */
    }
    if (line) {
        char buf[200];
        Fmt f;
        fmt_init(&f, buf, sizeof buf);
        load_progress_line(&f, lp);
        mirror_line(buf);
    }
}

/* Esc waiting on any key source; other keys are dropped (the chat has not started). */
static int esc_pressed(App *a)
{
    Key k;
    while (input_poll(&a->input, &k))
        if (k.scan == KEY_ESC)
            return 1;
    return 0;
}

enum models_read_result models_read(App *a, const ModelFile *m, uint64_t extra_bytes, ModelBytes *out)
{
    fmt_zero(out, sizeof *out);
    char buf[200];
    Fmt f;
    MemFree mem;
    models_free_memory(&mem);
    uint64_t need = m->bytes + extra_bytes;
    if (mem.total && need > mem.largest) { /* no map at all (total 0): AllocatePages alone decides */
        fmt_init(&f, buf, sizeof buf);
        fmt_str(&f, m->name);
        fmt_str(&f, " needs ");
        fmt_u64(&f, picker_mib_up(need));
        fmt_str(&f, " MiB, ");
        fmt_u64(&f, mem.largest >> 20);
        fmt_str(&f, " MiB free");
        app_error(a, buf);
        return MODELS_READ_NO_ROOM;
    }
    EFI_FILE_HANDLE root, file;
    EFI_STATUS st = file_open_root(a->image, &root);
    if (EFI_ERROR(st)) {
        error_line(a, m->name, " cannot be opened", file_error_phrase(st));
        return MODELS_READ_ERROR;
    }
    st = root->Open(root, &file, (CHAR16 *)m->path, EFI_FILE_MODE_READ, 0);
    root->Close(root);
    if (EFI_ERROR(st)) {
        error_line(a, m->name, " cannot be opened", file_error_phrase(st));
        return MODELS_READ_ERROR;
    }
    EFI_PHYSICAL_ADDRESS addr = 0;
    UINTN pages = (UINTN)((m->bytes + 4095) >> 12);
    if (pages == 0)
        pages = 1;
    st = g_bs->AllocatePages(AllocateAnyPages, EfiLoaderData, pages, &addr);
    if (EFI_ERROR(st)) { /* the map said it fits; the firmware disagreed (fragmented since) */
        file->Close(file);
        error_line(a, m->name, " does not fit in memory", "the firmware refused the allocation");
        return MODELS_READ_NO_ROOM;
    }
    out->bytes = (uint8_t *)(uintptr_t)addr;
    out->pages = pages;
    LoadProgress lp = {m->name, 0, m->bytes, 0};
    uint64_t t0 = clock_ms(), last_line = t0, last_draw = 0;
    show_progress(a, &lp, 0);
    enum models_read_result r = MODELS_READ_OK;
    while (lp.done < m->bytes) {
        uint64_t left = m->bytes - lp.done;
        UINTN n = left < MODELS_CHUNK_BYTES ? (UINTN)left : MODELS_CHUNK_BYTES;
        st = file->Read(file, &n, out->bytes + lp.done);
        if (EFI_ERROR(st)) {
            error_line(a, m->name, " cannot be read", file_error_phrase(st));
            r = MODELS_READ_ERROR;
            break;
        }
        if (n == 0) { /* the directory entry promised more: never wait for bytes that will not come */
            error_line(a, m->name, " cannot be read", "file shorter than its directory entry");
            r = MODELS_READ_ERROR;
            break;
        }
        lp.done += n;
        uint64_t now = clock_ms();
        lp.ms = now - t0;
        int line = now - last_line >= PROGRESS_LINE_MS && lp.done < m->bytes;
        if (line || now - last_draw >= PROGRESS_DRAW_MS) {
            show_progress(a, &lp, line);
            last_draw = now;
            if (line)
                last_line = now;
        }
        if (esc_pressed(a)) {
            mirror_line("efichat: load cancelled");
            app_info(a, TURN_INFO, "Loading cancelled: the built-in model runs.");
            r = MODELS_READ_CANCELLED;
            break;
        }
    }
    file->Close(file);
    if (r != MODELS_READ_OK) {
        models_bytes_free(out);
        return r;
    }
    out->len = (size_t)m->bytes;
    lp.ms = clock_ms() - t0;
    show_progress(a, &lp, 0);
    fmt_init(&f, buf, sizeof buf);
    fmt_str(&f, "efichat: loaded ");
    fmt_str(&f, m->name);
    fmt_str(&f, " MiB=");
    fmt_u64(&f, picker_mib_up(m->bytes));
    fmt_str(&f, " ms=");
    fmt_u64(&f, lp.ms);
    mirror_line(buf);
    return MODELS_READ_OK;
}
