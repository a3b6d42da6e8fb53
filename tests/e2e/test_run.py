#!/usr/bin/env python3
"""test_run.py - what `make run-serial` promises a user in a terminal: tools/qemu_run.sh in serial mode says how
to quit, the chat works over the terminal (typing echoed, xterm's F3 understood, a reply), and Ctrl-A X really quits
QEMU. (`make run` with a window needs a display, which tests do not have; it shares the rest of the command line.)"""
import os, re, sys, time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from efiqemu import BUILD, LOGS, Cases, Machine, check, info

IMG = os.path.join(BUILD, "efichat.img")
READY_S, REPLY_S = 300, 300


def main():
    cases = Cases()
    if not os.path.exists(IMG):
        cases.fail("run-serial", f"{IMG} missing (make disk)")
        return 1
    with Machine(IMG, "run-serial", keyboard="both", mode="serial", max_life=700) as m:
        def chat():
            r = m.wait_for(r"efichat: ready\r?\n", READY_S)
            check(re.search(r"efichat: screen none", m.text(0, r.end())), "the app did not choose its text console")
            m.serial_write("\x1bOR")   # F3 as xterm sends it
            since = m.wait_for(r"efichat: settings temp=0\.90 ", 30, r.end()).end()
            m.serial_write("Hi")
            since = m.wait_for(r"Hi", 30, since).end()     # the typed text is echoed
            m.serial_write("\r")
            r = m.wait_for(r"efichat: reply tokens=(\d+) ms=(\d+)\r?\n", REPLY_S, since)
            check(int(r.group(1)) > 0, f"tokens={r.group(1)}")

        def quit_keys():
            with open(os.path.join(LOGS, "run-serial.qemu.log"), "rb") as f:
                said = f.read().decode(errors="replace")
            check("Ctrl-A then X" in said, f"qemu_run.sh did not say how to quit: {said[-200:]!r}")
            m.serial_write(b"\x01x")
            t0 = time.monotonic()
            while m.proc.poll() is None and time.monotonic() - t0 < 30:
                time.sleep(0.2)
            check(m.proc.poll() is not None, "QEMU still runs 30 s after Ctrl-A X")
            info(f"Ctrl-A X quit QEMU in {time.monotonic() - t0:.1f} s, status {m.proc.returncode}")

        cases.run("run-serial: the chat works in the terminal: echo, xterm F3, a reply (text console, no VGA)", chat)
        cases.run("run-serial: it says how to quit, and Ctrl-A X quits QEMU", quit_keys)
    return cases.exit_code()


if __name__ == "__main__":
    sys.exit(main())
