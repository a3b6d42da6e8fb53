/* main.c - efi_main: turns the firmware off our back (watchdog), reads the config, opens the screen (or falls back
 * to the text console), the keyboard and the model, then hands over to app_run(). Never exits boot services.
 * Every failure is reported on screen and as an "efichat: error:" line; only a model we cannot load at all ends
 * the app (back to the firmware's boot menu). */
#include "app.h"
#include "config.h"
#include "cpu.h"
#include "llama_app.h"
#include "models.h"
#include "../chat/template.h"
#include "../chat/fmt.h"
#include "../q8.h"

extern const uint8_t efichat_font_ttf[] __attribute__((visibility("hidden")));
extern const uint8_t efichat_font_ttf_end[] __attribute__((visibility("hidden")));
extern const uint8_t efichat_model_bin[] __attribute__((visibility("hidden")));
extern const uint8_t efichat_model_bin_end[] __attribute__((visibility("hidden")));

#ifndef EFICHAT_EMBEDDED_RANDOM
#define EFICHAT_EMBEDDED_RANDOM 0
#endif

#define FONT_ARENA_BYTES (2u << 20)
#define TRANSCRIPT_BYTES (1u << 20)
#define PENDING_MAX 8
#define MODEL_FILE_MAX_BYTES (1u << 30) /* far above any model whose run state fits in a laptop's memory */

/* Problems found before the mirror knows where to write (the config is read before the screen is chosen). */
static char pending[PENDING_MAX][160];
static unsigned pending_n;

static void pend(const char *msg)
{
    if (pending_n < PENDING_MAX) {
        Fmt f;
        fmt_init(&f, pending[pending_n++], sizeof pending[0]);
        fmt_str(&f, msg);
    }
}

static void config_problem(void *ctx, unsigned line, const char *msg)
{
    (void)ctx;
    char buf[160];
    Fmt f;
    fmt_init(&f, buf, sizeof buf);
    fmt_str(&f, "\\efichat\\efichat.cfg");
    if (line) { /* line 0: the whole file */
        fmt_str(&f, " line ");
        fmt_u64(&f, line);
    }
    fmt_str(&f, ": ");
    fmt_str(&f, msg);
    fmt_str(&f, " (ignored)");
    pend(buf);
}

static void load_config(App *a)
{
    uint8_t *buf;
    size_t len;
    EFI_STATUS st = file_read_all(a->image, L"\\efichat\\efichat.cfg", CONFIG_MAX_BYTES, &buf, &len);
    if (st == EFI_NOT_FOUND)
        return;
    if (st == EFI_BAD_BUFFER_SIZE) {
        pend("\\efichat\\efichat.cfg is larger than 64 KiB, so it is not a settings file: not read; using the defaults");
        return;
    }
    if (EFI_ERROR(st)) {
        pend("\\efichat\\efichat.cfg cannot be read; using the defaults");
        return;
    }
    config_parse((const char *)buf, len, &a->settings, config_problem, a);
    efi_free(buf);
}

/* The core uses AVX only when the OS (here: us) has enabled the YMM state, and the Q8 kernel's AVX-512 VNNI path
 * only with the opmask and ZMM state too. Firmware leaves CR4.OSXSAVE off on many machines, so when the CPU has
 * XSAVE and AVX we switch it on: CR4 bit 18, then XCR0 |= x87|SSE|YMM, plus opmask|ZMM_Hi256|Hi16_ZMM when CPUID
 * leaf 0xD says XCR0 takes all three (as an OS does; setting a bit it does not list would fault). QEMU's default
 * CPU has no AVX, so this does nothing there; TCG has no AVX-512. Config `avx=0` skips it. */
static void enable_avx(void)
{
#if !defined(__x86_64__)
    return; /* AArch64: no AVX, and NEON needs no switch (entry.c) */
#else
    uint32_t a, b, c, d;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(1), "c"(0));
    int xsave = (c >> 26) & 1, osxsave = (c >> 27) & 1, avx = (c >> 28) & 1;
    if (!xsave || !avx)
        return;
    if (!osxsave) {
        uint64_t cr4;
        __asm__ volatile("mov %%cr4, %0" : "=r"(cr4));
        cr4 |= 1ull << 18;
        __asm__ volatile("mov %0, %%cr4" : : "r"(cr4));
    }
    uint32_t want = 7;
    __asm__ volatile("cpuid" : "=a"(a), "=b"(b), "=c"(c), "=d"(d) : "a"(0xD), "c"(0));
    if ((a & 0xE0u) == 0xE0u)
        want |= 0xE0u;
    uint32_t lo, hi;
    __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
    if ((lo & want) != want) {
        lo |= want;
        __asm__ volatile("xsetbv" : : "a"(lo), "d"(hi), "c"(0));
    }
#endif
}

static void describe_model_error(Fmt *f, const char *where, ModelError err, const char *msg)
{
    fmt_str(f, where);
    fmt_str(f, ": ");
    /* model_load's message starts with model_error_string(err) and adds the numbers; it is empty only when
     * the loader had no room to write it. */
    fmt_str(f, msg[0] ? msg : model_error_string(err));
}

/* The run state (KV cache and activations) of a->model, allocated before the model is accepted: a valid file whose
 * state does not fit in the firmware's memory must fall back to the embedded model, not end the app. */
static int alloc_run_state(App *a)
{
    a->rs_mem = efi_alloc(model_state_bytes(&a->model.cfg));
    return a->rs_mem != NULL;
}

/* An efichat model picked in \efichat\models: load_model takes it before model.bin and the embedded one. */
static ModelChoice chosen_gpt;

/* The efichat model picked in \efichat\models, else \efichat\model.bin when it is there, valid, and its run state
 * fits in memory, else the embedded model.
 * Returns 0 if neither can run; a->rs_mem is allocated when it returns 1. */
static int load_model(App *a)
{
    char msg[160], line[320];
    Fmt f;
    uint8_t *file;
    size_t len;
    a->random_model = 0;
    if (chosen_gpt.data.bytes) { /* picked in \efichat\models */
        msg[0] = 0;
        ModelError err = model_load(&a->model, chosen_gpt.data.bytes, chosen_gpt.data.len, msg, sizeof msg);
        if (err == MODEL_OK && alloc_run_state(a))
            return 1; /* the bytes stay allocated: the model points into them */
        fmt_init(&f, line, sizeof line);
        fmt_str(&f, chosen_gpt.file.name);
        fmt_str(&f, ": ");
        fmt_str(&f, err == MODEL_OK ? "no memory for its run state" : msg[0] ? msg : model_error_string(err));
        app_error(a, line);
        models_choice_free(&chosen_gpt);
    }
    EFI_STATUS st = file_read_all(a->image, L"\\efichat\\model.bin", MODEL_FILE_MAX_BYTES, &file, &len);
    if (!EFI_ERROR(st)) {
        msg[0] = 0;
        ModelError err = model_load(&a->model, file, len, msg, sizeof msg);
        if (err == MODEL_OK && alloc_run_state(a))
            return 1; /* the file stays allocated: the model points into it */
        efi_free(file);
        fmt_init(&f, line, sizeof line);
        if (err == MODEL_OK) {
            fmt_str(&f, "\\efichat\\model.bin needs ");
            fmt_u64(&f, (model_state_bytes(&a->model.cfg) + (1u << 20) - 1) >> 20);
            fmt_str(&f, " MiB for its run state (context ");
            fmt_u64(&f, a->model.cfg.ctx);
            fmt_str(&f, "), more than the firmware can give");
        } else {
            describe_model_error(&f, "\\efichat\\model.bin", err, msg);
        }
        fmt_str(&f, "; using the embedded model");
        app_error(a, line);
    } else if (st != EFI_NOT_FOUND) {
        app_error(a, "\\efichat\\model.bin cannot be read; using the embedded model");
    }
    msg[0] = 0;
    ModelError err = model_load(&a->model, efichat_model_bin, (size_t)(efichat_model_bin_end - efichat_model_bin),
                                msg, sizeof msg);
    if (err != MODEL_OK) {
        fmt_init(&f, line, sizeof line);
        describe_model_error(&f, "embedded model", err, msg);
        app_error(a, line);
        return 0;
    }
    if (!alloc_run_state(a)) {
        app_error(a, "out of memory for the embedded model's run state");
        return 0;
    }
    a->random_model = EFICHAT_EMBEDDED_RANDOM;
    return 1;
}

/* The other cores through MP Services (mp.c), unless cores=1 or the firmware has none; the results are the same
 * bits whatever the count, so a failure here only costs speed and is said once. */
static void start_cores(App *a)
{
    unsigned want = a->settings.cores ? a->settings.cores : MP_MAX_APS + 1;
    unsigned workers = mp_init(&a->mp, want);
    if (a->mp.failed)
        app_error(a, "an application processor did not start: the model runs on one core");
    if (workers > 1) {
        LlamaRun *r = a->llama;
        a->par_mem = efi_alloc(r ? llama_parallel_bytes(&r->m.c, workers) : model_parallel_bytes(&a->model.cfg, workers));
        if (!a->par_mem) {
            app_error(a, "out of memory for the other cores' scratch: the model runs on one core");
            workers = 1;
        } else {
            ModelParallel par = {mp_run, &a->mp, workers, mp_run_phases};
            if (r)
                llama_state_set_parallel(&r->s, &r->m.c, &par, a->par_mem);
            else
                model_state_set_parallel(&a->rs, &a->model.cfg, &par, a->par_mem);
        }
    }
    a->status.cores = workers;
}

static int open_graphics(App *a)
{
    if (EFI_ERROR(screen_open(&a->screen, a->settings.screen_w, a->settings.screen_h, (int)a->settings.blt)))
        return 0;
    a->font_arena = efi_alloc(FONT_ARENA_BYTES);
    if (!a->font_arena || font_init(&a->font, efichat_font_ttf, (size_t)(efichat_font_ttf_end - efichat_font_ttf),
                                    a->font_arena, FONT_ARENA_BYTES) != 0) {
        pend("the font cannot be set up (out of memory?); using the text console");
        screen_close(&a->screen);
        return 0;
    }
    /* About 36 rows whatever the panel: 21 px on 1024x768, 44 px on 2560x1600. */
    uint32_t px = a->settings.font_px ? a->settings.font_px : a->screen.fb.height / 36;
    font_set_px(&a->font, px < 14 ? 14 : px);
    render_init(&a->renderer, &a->screen.fb, &a->font);
    return app_layout(a);
}

static void say_setup(App *a)
{
    char buf[200];
    Fmt f;
    fmt_init(&f, buf, sizeof buf);
    if (a->graphics) {
        fmt_str(&f, "efichat: screen ");
        fmt_u64(&f, a->screen.fb.width);
        fmt_char(&f, 'x');
        fmt_u64(&f, a->screen.fb.height);
        fmt_str(&f, " mode=");
        fmt_u64(&f, a->screen.mode);
        fmt_str(&f, " format=");
        fmt_str(&f, a->screen.format);
        fmt_str(&f, a->screen.fb.video && !a->screen.fb.use_blt ? " flush=framebuffer" : " flush=blt");
        fmt_str(&f, " font_px=");
        fmt_u64(&f, a->font.px);
        fmt_str(&f, " grid=");
        fmt_u64(&f, a->grid.cols);
        fmt_char(&f, 'x');
        fmt_u64(&f, a->grid.rows);
    } else {
        fmt_str(&f, "efichat: screen none (text console)");
    }
    mirror_line(buf);
    if (a->sse_was_off)
        mirror_line("efichat: the firmware had left SSE off; switched on");
    fmt_init(&f, buf, sizeof buf);
    fmt_str(&f, "efichat: secure boot ");
    fmt_str(&f, a->status.secure_boot);
    mirror_line(buf);
    fmt_init(&f, buf, sizeof buf);
    fmt_str(&f, "efichat: input ");
    fmt_str(&f, input_source_name(&a->input));
    mirror_line(buf);
    if (a->llama) {
        llama_app_describe(a, buf, sizeof buf);
        mirror_line(buf);
        return;
    }
    fmt_init(&f, buf, sizeof buf);
    fmt_str(&f, "efichat: model ");
    fmt_str(&f, a->model.cfg.name);
    fmt_str(&f, " params=");
    fmt_u64(&f, mf_param_count(&a->model.cfg));
    fmt_str(&f, " ctx=");
    fmt_u64(&f, a->model.cfg.ctx);
#if defined(__aarch64__)
    fmt_str(&f, a->rs.kernel == KERNEL_Q8 ? " kernel=q8" : " kernel=neon");
#else
    fmt_str(&f, a->rs.kernel == KERNEL_AVX ? " kernel=avx" : a->rs.kernel == KERNEL_Q8 ? " kernel=q8" : " kernel=sse2");
#endif
    if (a->rs.kernel == KERNEL_Q8) { /* which integer instructions: the same numbers on each */
        fmt_str(&f, " q8path=");
        fmt_str(&f, q8_path_name(a->rs.q8_path));
    }
    fmt_str(&f, " cores=");
    fmt_u64(&f, a->status.cores);
    if (a->random_model)
        fmt_str(&f, " (random test model)");
    mirror_line(buf);
}

static void welcome(App *a)
{
    char buf[400];
    Fmt f;
    fmt_init(&f, buf, sizeof buf);
    if (a->llama) {
        LlamaRun *r = a->llama;
        fmt_str(&f, "efichat - ");
        fmt_str(&f, r->name);
        fmt_str(&f, " (");
        fmt_str(&f, r->m.kind);
        fmt_str(&f, ", ");
        fmt_u64(&f, (llama_app_params(&r->m.c) + 500000) / 1000000);
        fmt_str(&f, "M parameters, context ");
        fmt_u64(&f, r->m.c.ctx);
        fmt_str(&f, " tokens, chat template ");
        fmt_str(&f, template_name(r->tmpl));
        fmt_str(&f, "), running in UEFI, no OS. Type a line and press Enter; F1 lists the keys.");
        app_info(a, TURN_INFO, buf);
        return;
    }
    fmt_str(&f, "efichat - a byte-level GPT running in UEFI, no OS. Model: ");
    fmt_str(&f, a->model.cfg.name);
    fmt_str(&f, " (");
    fmt_u64(&f, mf_param_count(&a->model.cfg));
    fmt_str(&f, " parameters, context ");
    fmt_u64(&f, a->model.cfg.ctx);
    fmt_str(&f, " bytes). Type a line and press Enter; F1 lists the keys.");
    if (a->settings.mode == MODE_PLAY) {
        fmt_str(&f, " Play mode: you speak as ");
        fmt_str(&f, a->settings.user_name);
        fmt_str(&f, ", the model answers with the next speech.");
    }
    app_info(a, TURN_INFO, buf);
    if (a->random_model)
        app_info(a, TURN_ERROR, "This is a RANDOM TEST MODEL: its replies are noise. Put a trained model in "
                                "\\efichat\\model.bin on the boot volume.");
}

/* A Llama-family model from \efichat\models (models_choose: the picker, the read with progress, the tokenizer of a
 * llama2.c file), else nothing (the GPT model runs). The chosen bytes stay allocated while the model runs. */
static void open_llama(App *a)
{
    /* The built-in entry's name, from the embedded file's header (docs/model-format.md: bytes 64..127, NUL-padded). */
    char builtin[MF_NAME_BYTES];
    fmt_copy(builtin, efichat_model_bin + 64, MF_NAME_BYTES - 1);
    builtin[MF_NAME_BYTES - 1] = 0;
    ModelChoice mc;
    if (!models_choose(a, builtin, (size_t)(efichat_model_bin_end - efichat_model_bin), 0, &mc))
        return;
    models_choice_line(&mc);
    const uint8_t *d = mc.data.bytes;
    if (mc.data.len >= 4 && d[0] == 'E' && d[1] == 'F' && d[2] == 'C' && d[3] == 'M') {
        chosen_gpt = mc; /* an efichat model: setup_gpt loads it */
        return;
    }
    if (!llama_app_open(a, mc.file.name, mc.data.bytes, mc.data.len, mc.tokenizer, mc.tokenizer_len))
        models_choice_free(&mc); /* its error line is out; the built-in model runs */
}

/* The GPT-family model (\efichat\model.bin or the embedded one) with its kernel; an error that leaves no model ends
 * the app after a key. */
static EFI_STATUS setup_gpt(App *a)
{
    if (!load_model(a)) {
        app_error(a, "no usable model: press any key to return to the firmware");
        app_run_fatal(a);
        return EFI_LOAD_ERROR;
    }
    model_state_init(&a->rs, &a->model.cfg, a->rs_mem, model_best_kernel());
    if (a->settings.q8) { /* the integer kernel: about twice as fast under QEMU's software CPU and natively */
        a->q8_mem = efi_alloc(model_q8_bytes(&a->model.cfg));
        if (a->q8_mem && model_quantize(&a->model, a->q8_mem)) {
            a->rs.kernel = KERNEL_Q8;
            model_pick_q8_path(&a->model, &a->rs, cpu_counter); /* QEMU's TCG: avx2-mullo, not the CPUID pick */
        } else
            app_error(a, "q8=1: cannot quantise the model (out of memory or too wide); using float");
    }
    /* An int8 (version 2) model under a float kernel runs its matrices dequantised; Q8 needs no float copy. */
    size_t dequant = model_dequant_bytes(&a->model.cfg);
    if (a->rs.kernel != KERNEL_Q8 && dequant) {
        a->dequant_mem = efi_alloc(dequant);
        if (!a->dequant_mem) {
            app_error(a, "out of memory for the float copy of the int8 model's matrices (the float kernel runs"
                         " them; q8=1 does not): press any key to return to the firmware");
            app_run_fatal(a);
            return EFI_OUT_OF_RESOURCES;
        }
        model_dequantize(&a->model, a->dequant_mem);
    }
    return EFI_SUCCESS;
}

EFI_STATUS efichat_main(EFI_HANDLE image, EFI_SYSTEM_TABLE *st, int sse_was_off)
{
    /* The firmware resets the machine 5 minutes after starting a boot option unless the watchdog is disarmed. */
    g_bs->SetWatchdogTimer(0, 0, 0, NULL);
    clock_init();

    App *a = efi_alloc(sizeof *a);
    if (!a) {
        st->ConOut->OutputString(st->ConOut, L"efichat: error: out of memory at start\r\n");
        return EFI_OUT_OF_RESOURCES;
    }
    fmt_zero(a, sizeof *a);
    a->image = image;
    a->sse_was_off = sse_was_off;
    settings_default(&a->settings);
    a->transcript_mem = efi_alloc(TRANSCRIPT_BYTES);
    a->edit = efi_alloc(sizeof *a->edit);
    if (!a->transcript_mem || !a->edit || !transcript_init(&a->transcript, a->transcript_mem, TRANSCRIPT_BYTES, 80)) {
        st->ConOut->OutputString(st->ConOut, L"efichat: error: out of memory at start\r\n");
        return EFI_OUT_OF_RESOURCES;
    }
    lineedit_init(a->edit);

    load_config(a);
    a->graphics = open_graphics(a);
    EFI_STATUS s = input_init(&a->input, a->settings.input, !a->graphics);
    /* Reading the serial port directly means its terminal driver is gone from ConOut too: write it directly. */
    int direct_serial = a->input.serial != NULL;
    mirror_init(!a->graphics && !direct_serial);
    if (!a->graphics && !direct_serial)
        g_st->ConOut->ClearScreen(g_st->ConOut);
    for (unsigned i = 0; i < pending_n; i++)
        app_error(a, pending[i]);
    if (EFI_ERROR(s))
        app_error(a, "cannot create the input timer; keys are polled");

    if (a->settings.avx)
        enable_avx();
    open_llama(a);
    if (!a->llama) {
        EFI_STATUS gs = setup_gpt(a);
        if (EFI_ERROR(gs))
            return gs;
    }
    start_cores(a);
    a->tail_newlines = 2;
    uint64_t seed = a->settings.seed ? a->settings.seed : clock_us() ^ 0x9E3779B97F4A7C15ull;
    sampler_init(&a->sampler, (float)a->settings.temp / 100.0f, a->settings.top_k,
                 (float)a->settings.top_p / 100.0f, seed);
    if (a->llama) {
        sampler_set_scratch(&a->sampler, a->llama->sampler_mem, a->llama->m.c.vocab);
        a->status.model_name = a->llama->name;
        a->status.mode_label = a->llama->tmpl ? template_name(a->llama->tmpl) : "text";
        a->status.ctx_max = a->llama->m.c.ctx;
    } else {
        a->status.model_name = a->model.cfg.name;
        a->status.random_model = a->random_model;
        a->status.ctx_max = a->model.cfg.ctx;
    }
    secureboot_query(&a->secure_boot);
    a->status.secure_boot = secureboot_describe(&a->secure_boot);

    say_setup(a);
    welcome(a);
    report_start(a);
    app_run(a);
    return EFI_SUCCESS;
}
