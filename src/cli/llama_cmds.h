/* llama_cmds.h - efichat-cli's commands that need a Llama-family tokenizer: tokenize and llama-generate. */
#ifndef EFICHAT_LLAMA_CMDS_H
#define EFICHAT_LLAMA_CMDS_H

int cmd_tokenize(int argc, char **argv);
int cmd_llama_generate(int argc, char **argv);

#endif
