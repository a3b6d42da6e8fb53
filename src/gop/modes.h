/* modes.h - which GOP mode to use: the one asked for (config `screen=WxH`) if the firmware has it, else the
 * current mode when it is at least 1024x768, else the largest mode up to 1920x1080. Pure, host-tested. */
#ifndef EFICHAT_MODES_H
#define EFICHAT_MODES_H

#include <stdint.h>

typedef struct {
    uint32_t w, h;
} ModeSize;

/* Returns the index into modes[0..n) to set; `current` when nothing is better. */
uint32_t modes_pick(const ModeSize *modes, uint32_t n, uint32_t current, uint32_t want_w, uint32_t want_h);

#endif
