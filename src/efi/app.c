/* app.c - the chat loop on UEFI. One turn of the loop: read every waiting key, generate at most one token, draw
 * what changed (while a reply streams, at most every DRAW_EVERY_US), and sleep until a key or the 50 ms timer only
 * when idle. So drawing and keys stay responsive while
 * a reply streams (a token costs ~70 ms under QEMU TCG), and Esc stops a reply before the next token.
 * Timing: a reply's ms run from Enter to its last token (prompt included); tokens/s count the decode only. */
#include "app.h"
#include "llama_app.h"
#include "../chat/fmt.h"

#define MESSAGE_BYTES 2048

/* ---- output: the screen (graphics) and the mirror (serial, or ConOut in text mode) */

static void draw(App *a)
{
    if (!a->graphics || !a->dirty)
        return;
    a->status.ctx_used = a->llama ? llchat_ctx_used(&a->llama->chat) : a->rs.pos;
    a->status.generating = a->generating;
    chatui_compose(&a->grid, &a->transcript, a->edit, &a->settings, &a->status);
    render_frame(&a->renderer, &a->grid);
    fb_flush(&a->screen.fb);
    a->dirty = 0;
}

void app_info(App *a, enum turn_kind kind, const char *text)
{
    transcript_add(&a->transcript, kind, text);
    a->dirty = 1;
    if (!a->graphics && kind != TURN_ERROR)
        mirror_line(text); /* the text console has no transcript view: print it */
}

void app_error(App *a, const char *text)
{
    transcript_add(&a->transcript, TURN_ERROR, text);
    a->dirty = 1;
    mirror_line2("efichat: error: ", text);
}

/* Text console: messages that the graphical screen shows in the transcript are printed instead. */
static void text_note(App *a, const char *text)
{
    if (a->graphics)
        return;
    mirror_line(text);
}

int app_layout(App *a)
{
    uint32_t cols, rows;
    render_grid_size(&a->renderer, &cols, &rows);
    if (cols < 20 || rows < 4)
        return 0;
    efi_free(a->grid.cells);
    efi_free(a->shown);
    a->grid.cells = efi_alloc((size_t)cols * rows * sizeof(Cell));
    a->shown = efi_alloc((size_t)cols * rows * sizeof(Cell));
    if (!a->grid.cells || !a->shown)
        return 0;
    a->grid.cols = cols;
    a->grid.rows = rows;
    render_reset(&a->renderer, a->shown, cols, rows);
    render_set_scroll_region(&a->renderer, chatui_transcript_rows(rows));
    transcript_set_cols(&a->transcript, cols);
    a->dirty = 1;
    return 1;
}

void app_settings_changed(App *a)
{
    a->sampler.temperature = (float)a->settings.temp / 100.0f;
    a->sampler.top_k = a->settings.top_k;
    a->sampler.top_p = (float)a->settings.top_p / 100.0f;
    char buf[96];
    Fmt f;
    fmt_init(&f, buf, sizeof buf);
    settings_serial_line(&a->settings, &f);
    mirror_line(buf);
    a->dirty = 1;
}

/* ---- the model: feeding the context and generating one token per loop turn */

/* Feeds bytes into the context; an error (the logits overflowed) means they must not be sampled. */
static ModelError feed_bytes(App *a, const char *s, size_t n)
{
    int32_t toks[MODEL_PREFILL_CHUNK];
    mp_wake(&a->mp); /* the other cores spin while the model runs; parked again before the app waits for keys */
    while (n > 0) {
        size_t k = n < MODEL_PREFILL_CHUNK ? n : MODEL_PREFILL_CHUNK;
        for (size_t i = 0; i < k; i++) {
            toks[i] = (uint8_t)s[i];
            a->tail_newlines = s[i] == '\n' ? a->tail_newlines + 1 : 0;
        }
        ModelError e = model_feed(&a->model, &a->rs, toks, k, NULL);
        if (e != MODEL_OK)
            return e;
        s += k;
        n -= k;
    }
    return MODEL_OK;
}

/* The model overflowed to NaN or Inf: the context holds them now, so it is emptied, and the user told why. */
static void model_failed(App *a, ModelError e)
{
    if (a->llama)
        llchat_reset(&a->llama->chat);
    else
        model_state_reset(&a->rs);
    a->tail_newlines = 2;
    app_error(a, model_error_string(e));
    if (!a->graphics)
        mirror_str("> ");
}

static void end_reply(App *a, int stopped)
{
    /* a Llama reply that did not end by itself gets the template's end of turn, so the next turn is well formed */
    int lr = a->llama ? llchat_end_reply(&a->llama->chat) : LLCHAT_OK;
    uint64_t now = clock_us();
    uint64_t ms = (now - a->reply_start_us) / 1000, decode_us = now - a->decode_start_us;
    a->generating = 0;
    a->status.tok_s_tenths = decode_us ? (uint32_t)((uint64_t)a->reply.tokens * 10000000ull / decode_us) : 0;
    char buf[96];
    Fmt f;
    fmt_init(&f, buf, sizeof buf);
    fmt_str(&f, "efichat: reply tokens=");
    fmt_u64(&f, a->reply.tokens);
    fmt_str(&f, " ms=");
    fmt_u64(&f, ms);
    /* Always one line break after the reply, so a reader can cut the reply off exactly (docs/console.md). */
    mirror_bytes("\n", 1);
    mirror_line(buf);
    if (a->settings.memlog)
        memory_log_line(a->llama ? a->llama->chat.slides : a->rs.slides);
    if (stopped)
        app_info(a, TURN_INFO, "(stopped)");
    if (!a->graphics)
        mirror_str("> ");
    a->dirty = 1;
    report_reply(a, a->reply.tokens, ms);
    if (lr == LLCHAT_MODEL)
        model_failed(a, a->llama->chat.model_error);
}

/* One token of a Llama-family reply: its bytes shown, the reply ended by the model (end of turn), its length limit
 * or a failure. */
static void generate_one_llama(App *a)
{
    LlamaRun *r = a->llama;
    size_t n = 0;
    int done = 0;
    int res = llchat_step(&r->chat, &a->sampler, r->piece, r->tok.max_piece, &n, &done);
    for (size_t i = 0; i < n; i++) {
        char c = (char)r->piece[i], shown = fmt_terminal_byte(c);
        mirror_bytes(&shown, 1);
    }
    transcript_append(&a->transcript, (const char *)r->piece, n);
    a->reply.tokens++;
    a->dirty = 1;
    if (res == LLCHAT_MODEL) {
        ModelError e = r->chat.model_error;
        end_reply(a, 1);
        model_failed(a, e);
    } else if (done || a->reply.tokens >= a->reply.max_reply) {
        end_reply(a, 0);
    }
}

static void generate_one(App *a)
{
    if (a->llama) {
        generate_one_llama(a);
        return;
    }
    int32_t tok = sampler_sample(&a->sampler, a->rs.logits, MF_VOCAB);
    char c = (char)tok, shown = fmt_terminal_byte(c);
    transcript_append(&a->transcript, &c, 1);
    mirror_bytes(&shown, 1);
    int done = reply_push(&a->reply, (uint8_t)tok);
    /* The token enters the context even when it ends the reply, so the context always equals what is shown. */
    ModelError e = feed_bytes(a, &c, 1);
    a->dirty = 1;
    if (e != MODEL_OK) {
        end_reply(a, 1);
        model_failed(a, e);
    } else if (done) {
        end_reply(a, 0);
    }
}

/* The line the user typed, as it shows in the transcript: the framed message without its blank lines. */
static void show_user_turn(App *a, const char *framed, size_t n)
{
    size_t lo = 0;
    while (lo < n && framed[lo] == '\n')
        lo++;
    while (n > lo && framed[n - 1] == '\n')
        n--;
    transcript_begin_turn(&a->transcript, TURN_USER);
    transcript_append(&a->transcript, framed + lo, n - lo);
}

/* The model's turn begins: the loop generates a token per turn until the reply ends. */
static void open_reply(App *a)
{
    transcript_begin_turn(&a->transcript, TURN_MODEL);
    transcript_scroll_bottom(&a->transcript);
    reply_begin(&a->reply, &a->settings);
    a->generating = 1;
    a->decode_start_us = clock_us();
    a->dirty = 1;
}

/* A Llama-family model: the typed line becomes a templated turn (llchat); the reply opens. */
static void submit_llama(App *a, const char *text)
{
    size_t n = 0;
    while (text[n])
        n++;
    show_user_turn(a, text, n);
    mirror_bytes(text, n);
    mirror_bytes("\n", 1);
    mp_wake(&a->mp);
    int res = llchat_user(&a->llama->chat, text, n);
    if (res == LLCHAT_MODEL) {
        model_failed(a, a->llama->chat.model_error);
        return;
    }
    if (res != LLCHAT_OK) {
        app_error(a, res == LLCHAT_TOO_LONG ? "that message is longer than the model's whole context: not sent"
                                            : "that message cannot be encoded: not sent");
        if (!a->graphics)
            mirror_str("> ");
        return;
    }
    open_reply(a);
}

static void submit(App *a)
{
    char text[MESSAGE_BYTES], framed[MESSAGE_BYTES + 64];
    lineedit_submit(a->edit, text, sizeof text);
    if (!a->graphics)
        mirror_bytes("\n", 1); /* ends the echoed input line */
    a->reply_start_us = clock_us();
    if (a->llama) {
        submit_llama(a, text);
        return;
    }
    size_t n = convo_frame_user(&a->settings, a->tail_newlines, text, framed, sizeof framed);
    if (n == 0 && a->rs.pos == 0) { /* raw mode, nothing typed, empty context: start from a newline */
        framed[0] = '\n';
        n = 1;
    }
    if (n > 0) {
        show_user_turn(a, framed, n);
        mirror_bytes(framed, n);
        ModelError e = feed_bytes(a, framed, n);
        if (e != MODEL_OK) {
            model_failed(a, e);
            return;
        }
    }
    open_reply(a);
}

static void new_conversation(App *a)
{
    if (a->generating)
        end_reply(a, 1);
    if (a->llama)
        llchat_reset(&a->llama->chat);
    else
        model_state_reset(&a->rs);
    a->tail_newlines = 2;
    transcript_clear(&a->transcript);
    app_info(a, TURN_INFO, "New conversation: the context is empty.");
    mirror_line("efichat: new conversation");
}

static void change_font(App *a, int dir)
{
    if (!a->graphics)
        return;
    uint32_t old = a->font.px;
    font_set_px(&a->font, (uint32_t)((int)old + 2 * dir));
    if (!app_layout(a)) { /* too big for the screen, or no memory: back to the old size */
        font_set_px(&a->font, old);
        app_layout(a);
    }
}

/* ---- text console line echo: the line is reprinted after every edit that is not a plain append */

static void text_echo_line(App *a)
{
    if (a->graphics)
        return;
    char buf[MESSAGE_BYTES];
    Fmt f;
    fmt_init(&f, buf, sizeof buf);
    fmt_str(&f, "\r> ");
    for (uint32_t i = 0; i < a->edit->cur.len; i++) {
        char u[4];
        fmt_bytes(&f, u, utf8_encode(a->edit->cur.cp[i], u));
    }
    fmt_str(&f, "  \b\b");
    mirror_str(buf);
}

static const char *const text_help =
    "keys: Enter send | Esc stop | F2/F3 temp -/+ | F4/F5 top-k -/+ | F6/F7 top-p -/+ | F8 play/raw | "
    "Ctrl+L new conversation | Up/Down history | PgUp/PgDn scroll (graphics only) | F10 screenshot (graphics only) | "
    "F9 or Ctrl+Q leave (power off / restart)";

/* Config `keylog=1`: what each key source really delivers, for firmware we have never seen. */
static void log_key(const Key *k)
{
    char buf[96];
    Fmt f;
    fmt_init(&f, buf, sizeof buf);
    fmt_str(&f, "efichat: key scan=");
    fmt_u64(&f, k->scan);
    fmt_str(&f, " char=");
    fmt_u64(&f, k->cp);
    fmt_str(&f, " mods=");
    fmt_u64(&f, k->mods);
    fmt_str(&f, " action=");
    fmt_u64(&f, key_action(k));
    mirror_line(buf);
}

static void handle_key(App *a, const Key *k)
{
    enum key_action act = key_action(k);
    if (a->settings.keylog)
        log_key(k);
    if (a->leaving) { /* the leave question takes the next key */
        leave_answer(a, k);
        return;
    }
    if (a->status.show_help) { /* any key closes the help */
        a->status.show_help = 0;
        a->dirty = 1;
        return;
    }
    uint32_t rows = chatui_transcript_rows(a->grid.rows);
    a->dirty = 1;
    switch (act) {
    case ACT_CHAR:
        if (lineedit_insert(a->edit, k->cp == '\t' ? ' ' : k->cp) && !a->graphics) {
            if (a->edit->cursor == a->edit->cur.len) { /* typing at the end: echo just the character */
                char u[4];
                mirror_bytes(u, utf8_encode(a->edit->cur.cp[a->edit->cursor - 1], u));
            } else {
                text_echo_line(a);
            }
        }
        break;
    case ACT_ENTER:
        if (!a->generating)
            submit(a);
        break;
    case ACT_BACKSPACE: lineedit_backspace(a->edit); text_echo_line(a); break;
    case ACT_DELETE: lineedit_delete(a->edit); text_echo_line(a); break;
    case ACT_LEFT: lineedit_left(a->edit); break;
    case ACT_RIGHT: lineedit_right(a->edit); break;
    case ACT_HOME: lineedit_home(a->edit); break;
    case ACT_END: lineedit_end(a->edit); break;
    case ACT_HIST_PREV: lineedit_history_prev(a->edit); text_echo_line(a); break;
    case ACT_HIST_NEXT: lineedit_history_next(a->edit); text_echo_line(a); break;
    case ACT_PGUP: transcript_scroll_page(&a->transcript, rows, +1); break;
    case ACT_PGDN: transcript_scroll_page(&a->transcript, rows, -1); break;
    case ACT_STOP:
        if (a->generating)
            end_reply(a, 1);
        break;
    case ACT_HELP:
        a->status.show_help = a->graphics;
        text_note(a, text_help);
        if (!a->graphics) {
            char buf[80];
            Fmt f;
            fmt_init(&f, buf, sizeof buf);
            fmt_str(&f, "Secure Boot: ");
            fmt_str(&f, a->status.secure_boot);
            text_note(a, buf);
        }
        break;
    case ACT_TEMP_DOWN: settings_temp_step(&a->settings, -1); app_settings_changed(a); break;
    case ACT_TEMP_UP: settings_temp_step(&a->settings, +1); app_settings_changed(a); break;
    case ACT_TOPK_DOWN: settings_top_k_step(&a->settings, -1); app_settings_changed(a); break;
    case ACT_TOPK_UP: settings_top_k_step(&a->settings, +1); app_settings_changed(a); break;
    case ACT_TOPP_DOWN: settings_top_p_step(&a->settings, -1); app_settings_changed(a); break;
    case ACT_TOPP_UP: settings_top_p_step(&a->settings, +1); app_settings_changed(a); break;
    case ACT_MODE:
        if (a->llama) { /* its turns are framed by its chat template, not by play/raw */
            app_info(a, TURN_INFO, a->llama->tmpl ? "This model's chat template frames the turns; F8 changes nothing."
                                                  : "This model continues your text as it is; F8 changes nothing.");
            break;
        }
        a->settings.mode = a->settings.mode == MODE_PLAY ? MODE_RAW : MODE_PLAY;
        app_info(a, TURN_INFO, a->settings.mode == MODE_PLAY
                                   ? "Play mode: your line is a speech, the model answers with the next one."
                                   : "Raw mode: the model continues your text.");
        mirror_line(a->settings.mode == MODE_PLAY ? "efichat: mode play" : "efichat: mode raw");
        break;
    case ACT_NEW_CHAT: new_conversation(a); break;
    case ACT_FONT_UP: change_font(a, +1); break;
    case ACT_FONT_DOWN: change_font(a, -1); break;
    case ACT_LEAVE: leave_ask(a); break;
    case ACT_SCREENSHOT: shot_save(a); break;
    default: break;
    }
    /* The text console printed a line over the prompt: show the prompt and the line again. */
    if (!a->graphics && !a->generating && mirror_at_line_start())
        text_echo_line(a);
}

#define NO_KEY_HINT_MS 10000
#define DRAW_EVERY_US 20000 /* 50 frames a second while a reply streams */
#define SERIAL_BURST_MS 250 /* after a key from the serial port, poll it without waiting this long */

void app_run(App *a)
{
    app_settings_changed(a);
    draw(a);
    char buf[64];
    Fmt f;
    fmt_init(&f, buf, sizeof buf);
    fmt_str(&f, "efichat: startup ms=");
    fmt_u64(&f, clock_ms()); /* since efi_main began (clock_init) */
    mirror_line(buf);
    mirror_line("efichat: ready");
    if (!a->graphics)
        mirror_str("> ");
    uint64_t ready_ms = clock_ms();
    int any_key = 0;
    uint64_t last_key_ms = 0;
    for (;;) {
        Key k;
        while (input_poll(&a->input, &k)) {
            if (!any_key && a->status.no_key_hint)
                a->status.no_key_hint = 0, a->dirty = 1;
            any_key = 1;
            last_key_ms = clock_ms();
            handle_key(a, &k);
        }
        /* A keyboard the firmware does not drive (an internal one only the OS knows, virtio-keyboard) delivers
         * nothing and says nothing: after NO_KEY_HINT_MS without a key, say what works. */
        if (!any_key && !a->no_key_hint_sent && clock_ms() - ready_ms > NO_KEY_HINT_MS) {
            mirror_line2("efichat: ", chatui_no_key_hint);
            if (!a->graphics)
                mirror_str("> ");
            a->no_key_hint_sent = 1;
            a->status.no_key_hint = 1;
            a->dirty = 1;
        }
        if (a->generating)
            generate_one(a);
        /* While a reply streams, a frame every DRAW_EVERY_US: composing and blitting a frame per token would cost
         * more than the token itself on a fast machine (and under QEMU's software CPU). */
        if (!a->generating || clock_us() - a->drawn_us >= DRAW_EVERY_US) {
            draw(a);
            a->drawn_us = clock_us();
        }
        if (a->generating)
            continue;
        /* Read directly, a serial port holds 16 bytes: a paste drained once per 50 ms timer tick arrived at ~40
         * bytes/s under QEMU (and would overflow a real UART). While bytes keep coming, poll every 50 us. */
        if (a->input.serial && clock_ms() - last_key_ms < SERIAL_BURST_MS) {
            g_bs->Stall(50);
        } else {
            mp_park(&a->mp);
            input_wait(&a->input);
        }
    }
}

void app_run_fatal(App *a)
{
    a->dirty = 1;
    draw(a);
    for (;;) {
        Key k;
        if (input_poll(&a->input, &k))
            return;
        input_wait(&a->input);
    }
}
