#!/usr/bin/env python3
"""test_serial.py - case g of issue 5: with no display device at all (-vga none) the app runs its text console,
and the whole chat works over the serial port: keys typed into the port, the echo, the reply and its reply line.
One boot; QEMU is killed on every way out."""
import os, re, sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from efiqemu import BUILD, Cases, Machine, check, info

IMG = os.path.join(BUILD, "efichat.img")
READY_S, REPLY_S = 300, 300
PROMPT = "Hello there"
REPLY_RX = r"efichat: reply tokens=(\d+) ms=(\d+)\r?\n"


def main():
    cases = Cases()
    if not os.path.exists(IMG):
        cases.fail("g: chat over serial with -vga none", f"{IMG} missing (make disk)")
        return 1
    with Machine(IMG, "serial", keyboard="usb", extra=["-vga", "none"], max_life=700) as m:
        def g_serial():
            r = m.wait_for(r"efichat: ready\r?\n", READY_S)
            info(f"QEMU start to ready {m.arrival(r.start()):.1f} s (-vga none)")
            check(re.search(r"efichat: screen none", m.text(0, r.end())), "the app did not choose its text console")
            since = r.end()
            m.serial_write(PROMPT)
            since = m.wait_for(re.escape(f"> {PROMPT}"), 30, since).end()   # the line echo
            m.serial_write("\r")
            m.wait_for(re.escape(f"YOU:\r\n{PROMPT}\r\n\r\n"), 30, since)    # the framed message
            r = m.wait_for(REPLY_RX, REPLY_S, since)
            tokens = int(r.group(1))
            check(tokens > 0, f"tokens={tokens}")
            info(f"serial-only reply: {tokens} tokens in {r.group(2)} ms")
            m.wait_for(r"> ", 10, r.end())                                 # the prompt for the next line

        cases.run("g: chat over serial with -vga none (keys typed into the serial port)", g_serial)
    return cases.exit_code()


if __name__ == "__main__":
    sys.exit(main())
