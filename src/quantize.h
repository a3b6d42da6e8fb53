/* quantize.h - writes a version 2 (int8 matrices) model image from a loaded version 1 (float) model.
 * Memory in, memory out: the caller reads and writes the files. */
#ifndef EFICHAT_QUANTIZE_H
#define EFICHAT_QUANTIZE_H

#include "model.h"

/* The config of the version 2 image of a version 1 config: version, dtype and payload_bytes (not yet the CRC). */
ModelConfig quantize_config(const ModelConfig *c);
/* Writes the whole version 2 image (header, payload, CRC) of the version 1 model m into out, which holds
 * MF_HEADER_BYTES + quantize_config(&m->cfg).payload_bytes bytes. */
void quantize_image(const Model *m, uint8_t *out);

#endif
