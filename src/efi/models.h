/* models.h - model files on the stick: the list in \efichat\models, the memory the firmware has free, a chunked read
 * with a progress screen that Esc cancels, and models_choose(), which runs list -> picker -> read for main.c.
 * It hands back bytes; it never parses a model (the caller's GGUF / llama2.c readers do). */
#ifndef EFICHAT_MODELS_H
#define EFICHAT_MODELS_H

#include "app.h"

#define MODELS_DIR L"\\efichat\\models"
#define MODELS_MAX 32            /* files listed; the rest (by name) are left out and said so */
#define MODELS_PATH_CHARS 300    /* "\efichat\models\" + a FAT long name (255) + NUL, in UCS-2 */
#define MODELS_NAME_BYTES 96     /* the display name (UTF-8), NUL included; longer names are cut */
#define MODELS_CHUNK_BYTES (4u << 20) /* one Read(): some firmware stalls for seconds on one huge Read */

typedef struct {
    CHAR16 path[MODELS_PATH_CHARS]; /* \efichat\models\NAME as File->Open wants it */
    char name[MODELS_NAME_BYTES];   /* NAME as UTF-8, for the screen, serial and `model=` */
    uint64_t bytes;                 /* the directory entry's size */
    int gguf;                       /* the name ends in .gguf (else .bin: a llama2.c checkpoint) */
} ModelFile;

typedef struct {
    ModelFile files[MODELS_MAX]; /* sorted by name */
    uint32_t n;
    uint32_t left_out; /* model files past MODELS_MAX */
} ModelList;

/* The .gguf and .bin files (any case) in \efichat\models, without tokenizer files (tokenizer*, *.tokenizer.bin) and
 * folders. A missing folder is an empty list and EFI_SUCCESS; another error is returned (the list stays empty). */
EFI_STATUS models_list(EFI_HANDLE image, ModelList *out);

/* The tokenizer of a llama2.c X.bin: X.tokenizer.bin beside it when it exists, else tokenizer.bin there; name gets
 * its file name as UTF-8. EFI_NOT_FOUND when neither exists (out and name then say tokenizer.bin). */
EFI_STATUS models_tokenizer_path(EFI_HANDLE image, const ModelFile *m, CHAR16 out[MODELS_PATH_CHARS],
                                 char name[MODELS_NAME_BYTES]);

/* From the memory map: all EfiConventionalMemory and its largest physically contiguous run, in bytes (0 and 0 when
 * the map cannot be read). */
typedef struct {
    uint64_t total, largest;
} MemFree;
void models_free_memory(MemFree *out);

/* A file's bytes in pages of their own (AllocatePages, EfiLoaderData; page-aligned, so any reader's alignment
 * holds). Free with models_bytes_free. */
typedef struct {
    uint8_t *bytes;
    size_t len;
    UINTN pages;
} ModelBytes;

enum models_read_result {
    MODELS_READ_OK,
    MODELS_READ_NO_ROOM,   /* "<name> needs N MiB, M MiB free": nothing was allocated */
    MODELS_READ_CANCELLED, /* Esc during the read */
    MODELS_READ_ERROR,     /* the firmware's read failed or the file ended early */
};

/* Reads m into pages in MODELS_CHUNK_BYTES pieces, showing progress (a bar on the screen; throttled "efichat: load"
 * lines on serial, then "efichat: loaded NAME MiB=.. ms=..") and polling the keyboard between pieces: Esc cancels.
 * extra_bytes: memory the caller will need beyond the file (weights it builds, its run state); the file is refused
 * before anything is allocated when file + extra exceeds the largest free run. Every failure is one app_error line
 * and frees what was taken; out is then empty. */
enum models_read_result models_read(App *a, const ModelFile *m, uint64_t extra_bytes, ModelBytes *out);
void models_bytes_free(ModelBytes *b);

/* What models_choose hands back. builtin = 1: run the built-in model (no file, nothing chosen, Esc, or a failure
 * already shown with app_error). Else file and data hold the chosen file; for a llama2.c .bin, tokenizer holds its
 * tokenizer file's bytes (pool memory, file_read_all), for a .gguf it is NULL (the tokenizer is inside). */
typedef struct {
    int builtin;
    ModelFile file;
    ModelBytes data;
    uint8_t *tokenizer;
    size_t tokenizer_len;
    char tokenizer_name[MODELS_NAME_BYTES]; /* its file name (UTF-8), "" with no tokenizer */
} ModelChoice;

/* The whole start-up path: list \efichat\models; with one file take it, with more show the picker (config `model=`
 * preselected; the built-in model, named builtin_name and builtin_bytes big, as the last entry) and remember the
 * pick as `model=NAME` (`model=built-in` for the built-in entry) in \efichat\efichat.cfg; then read the file (and a .bin's tokenizer) with progress.
 * extra_bytes as for models_read. Returns 1 when out holds a file, 0 for the built-in model (out->builtin = 1). */
int models_choose(App *a, const char *builtin_name, uint64_t builtin_bytes, uint64_t extra_bytes, ModelChoice *out);
/* "efichat: chosen NAME MiB=N" (plus " tokenizer=NAME tokenizer_bytes=N" for a llama2.c pair) on the mirror: what was handed over. */
void models_choice_line(const ModelChoice *c);
/* Frees a choice's bytes and tokenizer (after the caller has copied what it keeps, or when its parse failed). */
void models_choice_free(ModelChoice *c);

#endif
