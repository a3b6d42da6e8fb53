/* config.h - parses \efichat\efichat.cfg (key=value lines, '#' comments) into Settings.
 * Pure C so the host tests run it; unknown keys and bad values are reported through a callback and skipped,
 * never fatal. */
#ifndef EFICHAT_CONFIG_H
#define EFICHAT_CONFIG_H

#include <stddef.h>
#include "../chat/settings.h"

/* Called once per problem with the 1-based line number and a sentence ("unknown key 'foo'"). */
typedef void (*config_report_fn)(void *ctx, unsigned line, const char *msg);

/* The largest efichat.cfg read at all: a settings file is a few hundred bytes, so a bigger file is the wrong file,
 * and reading (up to a gigabyte) and parsing it would only stall the boot. */
#define CONFIG_MAX_BYTES (64u * 1024u)

/* Applies every valid line of text[0..len) to s; returns how many problems were reported. Text longer than
 * CONFIG_MAX_BYTES changes nothing and is one problem, reported as line 0. */
unsigned config_parse(const char *text, size_t len, Settings *s, config_report_fn report, void *ctx);

#endif
