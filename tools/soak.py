#!/usr/bin/env python3
"""soak.py - `make soak`: a long chat in QEMU that must end as it began. Boot 1 types TURNS prompts over the serial
port (efichat.cfg input=serial, so UTF-8 goes in: é ü ñ ß — 日本), one of them a PASTE-character paste, with a small
max_reply so the 256-byte context overflows many times; boot 2 types a few turns with real key events (QMP
send-key). Passes when no `efichat: error:` line appears, every turn gets its reply line in time, QEMU is alive at
the end, the paste is cut to the line editor's 400 code points without garbage, the context slid at least
TURNS/10 times, and free memory (memlog=1) after the last turn is within SLACK KiB of that after turn 10.
Not part of `make test` (it runs for many minutes). Every wait has a deadline; `with Machine(...)` kills QEMU on
every way out. Prints a summary table; exit status 1 when any check fails."""
import argparse, os, re, sys, time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(ROOT, "tests", "e2e"))
import efiqemu   # noqa: E402  (the path above first)
from efiqemu import Machine, Timeout   # noqa: E402

LINE_MAX_CPS = 400   # src/chat/lineedit.h: the input line keeps this many code points; more are dropped
USER = "YOU"         # the default speaker name (src/chat/settings.c)
REPLY_RX = rb"efichat: reply tokens=(\d+) ms=(\d+)\r\n"
MEMORY_RX = rb"efichat: memory free_kib=(\d+) ctx_slides=(\d+)\r\n"
READY_S = 300        # QEMU start to ready: ~15 s alone, more on busy cores
TYPED = ["Good morrow, my lord.", "What news from Verona?", "Who is there? Stand and unfold yourself.",
         "I pray you, sir, is it your will to make a battle?", "Speak, friend, and enter.",
         "O, what a rogue and peasant slave am I!", "Give me some light: away!", "Is this a dagger I see?"]
NON_ASCII = ["Café crème, s'il vous plaît.", "Grüße aus München — sehr schön.", "¿Dónde está el niño? Señor!",
             "Die Straße, der Fuß, das Maß.", "日本の春, 桜 and tea.", "naïve façade, déjà vu ½ € ©"]


def prompts(turns):
    """Turn i's prompt: every 4th one holds non-ASCII characters; the number makes each one unique on serial."""
    for i in range(1, turns + 1):
        pool = NON_ASCII if i % 4 == 0 else TYPED
        yield i, f"{pool[i % len(pool)]} ({i})"


def paste_text(n):
    """n characters of text with 2- and 3-byte UTF-8 in it, no newline (Enter would submit it early)."""
    unit = "Now is the winter of our discontent — made glorious summer by this sun of York; é ü ñ ß 日本. "
    return (unit * (n // len(unit) + 1))[:n]


def wire(text):
    return text.encode().replace(b"\n", b"\r\n")


class Soak:
    """One boot's turns: types a prompt, waits for the framed message, the reply line and the memory line."""

    def __init__(self, m, reply_s):
        self.m, self.reply_s = m, reply_s
        self.turns = []   # dicts: n, tokens, ms, free_kib, slides, wall_s
        self.pos = 0

    def turn(self, n, text, send, shown=None):
        """send(text) types it; shown is what the line editor keeps (text unless it was cut)."""
        shown = text if shown is None else shown
        t0 = time.monotonic()
        send(text)
        framed = self.m.wait_for(re.escape(wire(f"{USER}:\n{shown}\n\n")), 60 + len(text) // 10, self.pos)
        r = self.m.wait_for(REPLY_RX, self.reply_s, framed.end())
        mem = self.m.wait_for(MEMORY_RX, 30, r.end())
        self.pos = mem.end()
        t = dict(n=n, tokens=int(r.group(1)), ms=int(r.group(2)), free_kib=int(mem.group(1)),
                 slides=int(mem.group(2)), wall_s=time.monotonic() - t0)
        self.turns.append(t)
        return t


def config(path, max_reply, serial):
    with open(path, "w") as f:
        f.write("# written by tools/soak.py\nmemlog=1\nseed=1\nmax_reply=%d\n%s" % (max_reply,
                "input=serial\n" if serial else ""))
    return path


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--turns", type=int, default=200)
    ap.add_argument("--max-reply", type=int, default=80)
    ap.add_argument("--paste", type=int, default=5000, help="characters in the paste (0: none)")
    ap.add_argument("--key-turns", type=int, default=3, help="turns typed with QMP send-key in a second boot")
    ap.add_argument("--slack-kib", type=int, default=16, help="free memory may differ this much (turn 10 vs last)")
    ap.add_argument("--reply-s", type=int, default=300, help="deadline for one reply line")
    ap.add_argument("--pace", type=float, default=0.01, help="seconds between serial bytes")
    args = ap.parse_args()

    efi = os.path.join(efiqemu.BUILD, "efichat.efi")
    readme = os.path.join(efiqemu.BUILD, "disk", "README.txt")
    for path in (efi, readme):
        if not os.path.exists(path):
            sys.exit(f"soak: {path} missing (make disk)")
    os.makedirs(efiqemu.LOGS, exist_ok=True)
    fails, notes = [], {}

    def check(cond, why):
        if not cond:
            fails.append(why)
            print(f"FAIL: {why}", flush=True)

    t_all = time.monotonic()
    img = efiqemu.make_image(os.path.join(efiqemu.LOGS, "soak.img"), efi, {
        "efichat/README.txt": readme,
        "efichat/efichat.cfg": config(os.path.join(efiqemu.LOGS, "soak.cfg"), args.max_reply, True)})
    paste_at = args.turns // 2 if args.paste else 0
    life = 600 + args.turns * 30
    with Machine(img, "soak", max_life=life) as m:
        s = Soak(m, args.reply_s)
        try:
            ready = m.wait_for(r"efichat: ready\r\n", READY_S)
            s.pos = ready.end()
            check(re.search(r"efichat: input serial", m.text(0, ready.end())), "the app did not read the serial port")
            t_typed = time.monotonic()
            for n, text in prompts(args.turns):
                if n == paste_at:
                    paste = paste_text(args.paste)
                    t = s.turn(n, paste, lambda x: m.serial_write(x + "\r", pace=args.pace / 4),
                               shown=paste[:LINE_MAX_CPS])
                    notes["paste"] = (f"{args.paste} chars ({len(paste.encode())} bytes) -> the first "
                                      f"{LINE_MAX_CPS} code points framed exactly, reply {t['tokens']} tokens, "
                                      f"{t['wall_s']:.0f} s from first byte to reply line")
                else:
                    t = s.turn(n, text, lambda x: m.serial_write(x + "\r", pace=args.pace))
                if n % 10 == 0 or n == args.turns:
                    print(f"   turn {n}: tokens={t['tokens']} ms={t['ms']} free_kib={t['free_kib']} "
                          f"ctx_slides={t['slides']} ({time.monotonic() - t_all:.0f} s)", flush=True)
            notes["typed_s"] = time.monotonic() - t_typed
        except Timeout as e:
            check(False, f"turn {len(s.turns) + 1}: {e}")
        check(m.proc.poll() is None, "QEMU is not running after the last turn")
        errors = re.findall(r"efichat: error: [^\r\n]*", m.text())
        check(not errors, f"{len(errors)} error lines: {errors[:3]}")
        notes["errors"] = len(errors)
    turns = s.turns
    check(len(turns) == args.turns, f"{len(turns)} of {args.turns} turns got their reply")

    # Boot 2: the keyboard path (QMP send-key, a USB keyboard), same memlog.
    keys = None
    if args.key_turns:
        img2 = efiqemu.make_image(os.path.join(efiqemu.LOGS, "soak-keys.img"), efi, {
            "efichat/README.txt": readme,
            "efichat/efichat.cfg": config(os.path.join(efiqemu.LOGS, "soak-keys.cfg"), args.max_reply, False)})
        with Machine(img2, "soak-keys", max_life=600 + args.key_turns * 60) as m2:
            keys = Soak(m2, args.reply_s)
            try:
                keys.pos = m2.wait_for(r"efichat: ready\r\n", READY_S).end()
                for n in range(1, args.key_turns + 1):   # ASCII only: send-key types a US layout
                    text = TYPED[n % len(TYPED)]
                    keys.turn(n, text, lambda x: (m2.type_text(x), m2.send_key("ret")))
            except Timeout as e:
                check(False, f"key turn {len(keys.turns) + 1}: {e}")
            check(m2.proc.poll() is None, "QEMU (keys) is not running after the last turn")
            errors = re.findall(r"efichat: error: [^\r\n]*", m2.text())
            check(not errors, f"keys: {len(errors)} error lines: {errors[:3]}")
        check(len(keys.turns) == args.key_turns, f"{len(keys.turns)} of {args.key_turns} key turns got a reply")

    # The figures.
    if turns:
        base = turns[min(9, len(turns) - 1)]
        last = turns[-1]
        free = [t["free_kib"] for t in turns]
        tokens = sum(t["tokens"] for t in turns)
        decode_ms = sum(t["ms"] for t in turns)
        check(abs(last["free_kib"] - base["free_kib"]) <= args.slack_kib,
              f"free memory after turn {base['n']} was {base['free_kib']} KiB, after turn {last['n']} "
              f"{last['free_kib']} KiB (slack {args.slack_kib})")
        check(last["slides"] >= args.turns // 10, f"the context overflowed {last['slides']} times only")
        rows = [("turns typed over serial (non-ASCII every 4th)", f"{len(turns)} of {args.turns}"),
                ("max_reply", str(args.max_reply)),
                ("reply tokens (all turns)", f"{tokens}, {min(t['tokens'] for t in turns)}-"
                                             f"{max(t['tokens'] for t in turns)} per reply"),
                ("context overflows (ctx_slides)", str(last["slides"])),
                ("paste", notes.get("paste", "not reached" if args.paste else "off")),
                ("error lines", str(notes.get("errors", "?"))),
                (f"free memory after turn {base['n']} / last", f"{base['free_kib']} / {last['free_kib']} KiB "
                                                               f"(min {min(free)}, max {max(free)})"),
                ("reply time (Enter to last token)", f"{decode_ms / 1000:.0f} s in all, "
                                                     f"{tokens * 1000 / max(decode_ms, 1):.1f} tokens/s"),
                ("typing and replies, boot 1", f"{notes.get('typed_s', 0):.0f} s"),
                ("slowest turn (typing included)", f"{max(t['wall_s'] for t in turns):.1f} s")]
        if keys is not None:
            rows.append(("key turns (QMP send-key, boot 2)",
                         f"{len(keys.turns)} of {args.key_turns}, "
                         f"{sum(t['tokens'] for t in keys.turns)} tokens"))
        rows.append(("total time (both boots)", f"{time.monotonic() - t_all:.0f} s"))
        width = max(len(k) for k, _ in rows)
        print("\nsoak summary")
        for k, v in rows:
            print(f"  {k:<{width}}  {v}")
    print(f"\nsoak: {'FAIL' if fails else 'PASS'} ({len(fails)} failed checks); "
          f"serial logs in {efiqemu.LOGS}/soak*.log")
    return 1 if fails else 0


if __name__ == "__main__":
    sys.exit(main())
