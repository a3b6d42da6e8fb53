/* modes.c - the screen mode choice (see modes.h). Freestanding. */
#include "modes.h"

#define KEEP_W 1024
#define KEEP_H 768
#define MAX_W 1920
#define MAX_H 1080

uint32_t modes_pick(const ModeSize *modes, uint32_t n, uint32_t current, uint32_t want_w, uint32_t want_h)
{
    if (want_w && want_h)
        for (uint32_t i = 0; i < n; i++)
            if (modes[i].w == want_w && modes[i].h == want_h)
                return i;
    if (current < n && modes[current].w >= KEEP_W && modes[current].h >= KEEP_H)
        return current;
    uint32_t best = current;
    uint64_t best_area = current < n ? (uint64_t)modes[current].w * modes[current].h : 0;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t area = (uint64_t)modes[i].w * modes[i].h;
        if (modes[i].w <= MAX_W && modes[i].h <= MAX_H && area > best_area) {
            best = i;
            best_area = area;
        }
    }
    return best;
}
