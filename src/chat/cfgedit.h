/* cfgedit.h - rewrites one key of efichat.cfg's text in memory, keeping every other byte: the model picker
 * remembers its choice as `model=NAME` this way. Pure C (host-tested); src/efi/modelpick.c reads and writes the
 * file. */
#ifndef EFICHAT_CFGEDIT_H
#define EFICHAT_CFGEDIT_H

#include <stddef.h>

/* Writes text with every `model=` line (leading blanks and the key's blanks allowed, as config_parse reads it)
 * replaced by `model=NAME`, each keeping its own line ending; with none, appends `model=NAME` and a line ending
 * (CR LF when the file has any CR LF, else LF), after a line ending added to a last line that had none. Comment
 * lines are untouched. Returns the new length, or 0 when out_cap is too small; in_len + name + 16 always fits
 * for a file with at most one model= line (each further one can grow by the name's length). */
size_t cfgedit_set_model(const char *in, size_t in_len, const char *name, char *out, size_t out_cap);

#endif
