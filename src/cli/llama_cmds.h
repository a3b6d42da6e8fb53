/* llama_cmds.h - efichat-cli's Llama-family commands. */
#ifndef EFICHAT_LLAMA_CMDS_H
#define EFICHAT_LLAMA_CMDS_H

int cmd_tokenize(int argc, char **argv);
int cmd_llama_generate(int argc, char **argv);
int cmd_chat(int argc, char **argv);
int cmd_llama_logits(int argc, char **argv);
int cmd_llama_bench(int argc, char **argv);

#endif
