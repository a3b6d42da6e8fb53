/* picker.h - the model picker's logic and screens, apart from the firmware: a list of model files plus the built-in
 * model as the last entry, a selection moved by keys, and the two screens (the centred list, the load progress) laid
 * out into a Grid. Pure C, so the host tests check it as text; src/efi/modelpick.c runs it. */
#ifndef EFICHAT_PICKER_H
#define EFICHAT_PICKER_H

#include <stdint.h>
#include "chatui.h"
#include "../input/key.h"

#define PICKER_MAX 33        /* 32 files (models.h MODELS_MAX) + the built-in model */
#define PICKER_NAME_BYTES 96 /* a display name (UTF-8), NUL included; longer names are cut */

typedef struct {
    char name[PICKER_NAME_BYTES];
    uint64_t bytes; /* the file's size; the built-in entry's is its model's */
} PickerEntry;

typedef struct {
    PickerEntry entries[PICKER_MAX];
    uint32_t n;
    uint32_t sel;     /* the highlighted entry */
    int has_builtin;  /* the last entry is the built-in model */
    uint32_t countdown_s; /* seconds until the selection loads by itself (shown in the hint); 0: no countdown */
} Picker;

enum picker_event {
    PICK_NONE,    /* the key means nothing here */
    PICK_MOVED,   /* the selection changed */
    PICK_CHOSEN,  /* Enter or a digit: entries[sel] is the choice */
    PICK_BUILTIN, /* Esc: the built-in model (sel is set to it) */
};

void picker_init(Picker *p);
/* Adds an entry; returns 0 when the list is full. The built-in entry is added last, as "built-in: NAME". */
int picker_add(Picker *p, const char *name, uint64_t bytes);
int picker_add_builtin(Picker *p, const char *model_name, uint64_t bytes);
/* What `model=` says when the built-in model was picked. */
#define PICKER_BUILTIN_NAME "built-in"
/* Selects the file entry named `remembered` (config `model=`, compared exactly), or the built-in entry for
 * PICKER_BUILTIN_NAME; the first entry when it is empty or names no entry. Returns 1 when it matched. */
int picker_preselect(Picker *p, const char *remembered);
/* Up/Down move (no wrap), Home/End jump, Enter picks, Esc picks the built-in, digits 1..9 pick that entry. */
enum picker_event picker_key(Picker *p, const Key *k);
/* Whether entries[i] is the built-in model. */
int picker_is_builtin(const Picker *p, uint32_t i);
/* Bytes as whole MiB, rounded up (a 1-byte file is 1 MiB: never "0 MiB" for something that takes room). */
uint64_t picker_mib_up(uint64_t bytes);

/* The list: a title, one row per entry with its size, the selected one highlighted, and a key hint (with the
 * countdown, when one runs); centred. */
void picker_compose(Grid *g, const Picker *p);

/* The load screen: the file's name, a bar, "X / Y MiB", the rate and the time left; done <= total. */
typedef struct {
    const char *name;
    uint64_t done, total; /* bytes */
    uint64_t ms;          /* since the read began */
} LoadProgress;
void load_compose(Grid *g, const LoadProgress *lp);
/* "efichat: load NAME 37/150 MiB 28 MiB/s eta 4 s" (no newline). */
void load_progress_line(Fmt *f, const LoadProgress *lp);
/* MiB per second so far (whole), and whole seconds left at that rate (0 when done or no rate yet). */
uint64_t load_mib_per_s(const LoadProgress *lp);
uint64_t load_eta_s(const LoadProgress *lp);

#endif
