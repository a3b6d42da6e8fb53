/* formats_info.h - `efichat-cli info` for model files the chat cannot run yet (GGUF, llama2.c): what the readers
 * of src/formats/ make of them. Host only (stdio); the readers themselves stay freestanding. */
#ifndef EFICHAT_FORMATS_INFO_H
#define EFICHAT_FORMATS_INFO_H

#include <stddef.h>
#include <stdio.h>

/* Prints a GGUF or llama2.c image's header, config and tensors to out and returns 1; returns 0 for an efichat
 * model (magic "EFCM": the caller's loader reads it); returns -1 for a file no reader accepts, with one line in
 * msg saying why. */
int formats_info(FILE *out, const void *bytes, size_t len, char *msg, size_t cap);

#endif
