/* blobs.S - the font and the default model, embedded at build time (mk/efi.mk passes the paths). Both start on a
 * 64-byte boundary: model_load needs 4-byte alignment, the kernels like more. Hidden symbols keep the references
 * PC-relative, so the PE needs no relocations for them. */
    .section .rodata.efichat_blobs, "a"

    .balign 64
    .globl efichat_font_ttf
    .hidden efichat_font_ttf
efichat_font_ttf:
    .incbin EFICHAT_FONT_FILE
    .globl efichat_font_ttf_end
    .hidden efichat_font_ttf_end
efichat_font_ttf_end:

    .balign 64
    .globl efichat_model_bin
    .hidden efichat_model_bin
efichat_model_bin:
    .incbin EFICHAT_MODEL_FILE
    .globl efichat_model_bin_end
    .hidden efichat_model_bin_end
efichat_model_bin_end:

    .section .note.GNU-stack, "", @progbits
