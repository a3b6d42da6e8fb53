"""efiqemu.py - boots a disk image on OVMF under QEMU and drives it like a user: real key events through QMP
`send-key`, the serial port read and written through pipes, screendumps turned into PNG and read by tesseract.
Python standard library only. Every wait has a deadline; `with Machine(...)` always kills QEMU on the way out.
The QEMU command line comes from tools/qemu_run.sh (MODE=test), the same script `make run` uses.
"""
import json, os, re, shutil, socket, struct, subprocess, sys, tempfile, threading, time, zlib

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("EFICHAT_BUILD", "build"))
LOGS = os.path.join(BUILD, "e2e")


class Timeout(Exception):
    pass


class Found:
    """A regex match in the serial output: offsets into the whole output, groups as text."""

    def __init__(self, m):
        self.m = m

    def start(self, g=0):
        return self.m.start(g)

    def end(self, g=0):
        return self.m.end(g)

    def group(self, g=0):
        return self.m.group(g).decode("utf-8", "replace")


# ---------------------------------------------------------------------------------------------------------------
# keys: characters to QEMU qcodes (US layout), as send-key wants them

_PLAIN = {" ": "spc", "\n": "ret", "\t": "tab", ",": "comma", ".": "dot", "/": "slash", ";": "semicolon",
          "'": "apostrophe", "-": "minus", "=": "equal", "[": "bracket_left", "]": "bracket_right",
          "\\": "backslash", "`": "grave_accent"}
_SHIFTED = {"!": "1", "@": "2", "#": "3", "$": "4", "%": "5", "^": "6", "&": "7", "*": "8", "(": "9", ")": "0",
            "?": "slash", ":": "semicolon", '"': "apostrophe", "_": "minus", "+": "equal", "{": "bracket_left",
            "}": "bracket_right", "|": "backslash", "~": "grave_accent", "<": "comma", ">": "dot"}


def char_keys(c):
    """The qcodes pressed together to type one character."""
    if "a" <= c <= "z" or "0" <= c <= "9":
        return [c]
    if "A" <= c <= "Z":
        return ["shift", c.lower()]
    if c in _PLAIN:
        return [_PLAIN[c]]
    if c in _SHIFTED:
        return ["shift", _SHIFTED[c]]
    raise ValueError(f"no key for {c!r}")


# ---------------------------------------------------------------------------------------------------------------
# images: PPM (what QEMU's screendump writes) to PNG, and OCR

def read_ppm(path):
    """Returns (width, height, rgb bytes) of a binary P6 PPM with maxval 255."""
    with open(path, "rb") as f:
        data = f.read()
    fields, pos = [], 0
    while len(fields) < 4:
        m = re.compile(rb"\s*(#[^\n]*\n\s*)*(\S+)").match(data, pos)
        if not m:
            raise ValueError(f"{path}: not a PPM")
        fields.append(m.group(2))
        pos = m.end()
    if fields[0] != b"P6" or int(fields[3]) != 255:
        raise ValueError(f"{path}: only P6 with maxval 255 is handled, got {fields[0]!r} {fields[3]!r}")
    w, h = int(fields[1]), int(fields[2])
    pixels = data[pos + 1:pos + 1 + 3 * w * h]
    if len(pixels) != 3 * w * h:
        raise ValueError(f"{path}: truncated PPM")
    return w, h, pixels


def write_png(path, w, h, pixels, gray=False):
    """Writes 8-bit RGB (or gray) rows as PNG, filter 0 on every row."""
    bpp = 1 if gray else 3
    raw = b"".join(b"\0" + pixels[bpp * w * y:bpp * w * (y + 1)] for y in range(h))
    def chunk(kind, body):
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
    png = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 8, 0 if gray else 2, 0, 0, 0))
           + chunk(b"IDAT", zlib.compress(raw, 6)) + chunk(b"IEND", b""))
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(png)
    os.replace(tmp, path)


def ocr_ready(w, h, rgb, rows=None, scale=2, threshold=128, pad=12, channels=(0, 1, 2)):
    """Black text on white for tesseract: a pixel is ink when any of its channels is brighter than threshold (the chat
    draws light text on dark backgrounds of several shades, which tesseract reads badly as they are; shim's screens
    are grey on blue, so they are read on the red channel alone, channels=(0,)); rows=(y0, y1) crops;
    scale enlarges by pixel repetition; pad white rows go above and below (tesseract misreads text that touches the
    edge). Returns (w, h, gray bytes). Byte-string operations only: fast enough."""
    y0, y1 = rows or (0, h)
    rgb = rgb[3 * w * y0:3 * w * y1]
    h = y1 - y0
    bright = bytes(255 if v > threshold else 0 for v in range(256))
    mask = 0
    for c in channels:
        mask |= int.from_bytes(rgb[c::3].translate(bright), "big")
    ink = mask.to_bytes(w * h, "big").translate(bytes(255 - v for v in range(256)))
    if scale > 1:
        out = []
        for y in range(h):
            row = ink[w * y:w * (y + 1)]
            row = bytes(v for v in row for _ in range(scale))
            out.extend([row] * scale)
        ink, w, h = b"".join(out), w * scale, h * scale
    margin = b"\xff" * (w * pad * scale)
    return w, h + 2 * pad * scale, margin + ink + margin


def ocr(png, psm=11, timeout=120):
    """Text that tesseract reads in an image (raises when tesseract is missing or fails)."""
    exe = shutil.which("tesseract")
    if not exe:
        raise RuntimeError("tesseract not found (apt-get install tesseract-ocr tesseract-ocr-eng)")
    r = subprocess.run([exe, png, "-", "--psm", str(psm)], capture_output=True, text=True, timeout=timeout,
                       env=dict(os.environ, OMP_THREAD_LIMIT="1"))
    if r.returncode != 0:
        raise RuntimeError(f"tesseract failed: {r.stderr.strip()[-300:]}")
    return r.stdout


# ---------------------------------------------------------------------------------------------------------------
# the machine

class Machine:
    """One QEMU. `keyboard`: usb | ps2 | both; `disk_bus`: sata | usb; `extra`: more QEMU arguments; `mode`: test
    (serial on the pipes, no monitor) or serial (what `make run-serial` runs: monitor muxed into the serial on stdio);
    `secure_boot`: off | ms | snakeoil (the OVMF build, see tools/qemu_run.sh), with a fresh variable store;
    `snapshot`: False lets the guest write the image itself (boot a private copy then); `readonly`: a write-protected
    disk (needs disk_bus="usb"); `firmware`: ovmf | uboot; `cpu`, `mem`: QEMU's -cpu and -m (tools/qemu_run.sh's
    defaults otherwise); `disk_bus` may also be nvme or virtio; `arch`: x86_64 | aarch64 (qemu-system-aarch64 -M
    virt on AAVMF, which starts EFI/BOOT/BOOTAA64.EFI; disk_bus=None picks each arch's default)."""

    def __init__(self, image, name, keyboard="usb", disk_bus="sata", extra=(), smp=None, accel=None, max_life=600,
                 mode="test", secure_boot="off", snapshot=True, readonly=False, firmware="ovmf", cpu=None, mem=None,
                 arch="x86_64"):
        self.arch = arch
        self.image, self.name, self.secure_boot = image, name, secure_boot
        self.firmware, self.cpu, self.mem = firmware, cpu, mem
        self.snapshot, self.readonly = snapshot, readonly
        self.keyboard, self.disk_bus, self.extra, self.mode = keyboard, disk_bus, list(extra), mode
        self.smp = smp or os.environ.get("EFICHAT_SMP", "2")
        self.accel = accel or os.environ.get("EFICHAT_ACCEL", "tcg")
        self.max_life = max_life   # seconds: past this the watchdog kills QEMU, whatever the test is waiting on
        self.proc = None
        self.qmp_sock = None
        self.buf = bytearray()
        self.cond = threading.Condition()
        self.eof = False
        self.t_start = None
        self.arrivals = []   # (offset of the chunk's end in buf, monotonic time it arrived)
        self.watchdog = None
        os.makedirs(LOGS, exist_ok=True)
        self.log_path = os.path.join(LOGS, f"{name}.serial.log")

    # -- life cycle
    def __enter__(self):
        self.start()
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def start(self):
        self.tmp = tempfile.mkdtemp(prefix="efichat-e2e-")   # short path: unix socket names are limited to 107 bytes
        sock_path = os.path.join(self.tmp, "qmp.sock")
        env = dict(os.environ, MODE=self.mode, SNAPSHOT="1" if self.snapshot else "0",
                   READONLY="1" if self.readonly else "0", FRESH_VARS="1", KEYBOARD=self.keyboard,
                   DISK_BUS=self.disk_bus, SMP=str(self.smp), ACCEL=self.accel, SECURE_BOOT=self.secure_boot,
                   VARS_COPY=os.path.join(self.tmp, "OVMF_VARS.fd"), FIRMWARE=self.firmware, ARCH=self.arch)
        if not self.disk_bus:
            del env["DISK_BUS"]
        if self.cpu:
            env["CPU"] = self.cpu
        if self.mem:
            env["MEM"] = self.mem
        cmd = ["sh", os.path.join(ROOT, "tools", "qemu_run.sh"), self.image,
               "-qmp", f"unix:{sock_path},server=on,wait=off"] + self.extra
        self.stderr = open(os.path.join(LOGS, f"{self.name}.qemu.log"), "wb")
        self.log = open(self.log_path, "wb")
        self.t_start = time.monotonic()
        self.proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                     stderr=self.stderr, start_new_session=True)
        threading.Thread(target=self._reader, daemon=True).start()
        self.watchdog = threading.Timer(self.max_life, self._kill)
        self.watchdog.daemon = True
        self.watchdog.start()
        self._qmp_connect(sock_path, deadline=time.monotonic() + 60)

    def _kill(self):
        if self.proc.poll() is None:
            sys.stderr.write(f"efiqemu: {self.name}: QEMU still running after {self.max_life} s, killed\n")
            os.killpg(self.proc.pid, 9)   # our own session: QEMU and the sh that exec'd it, nothing else

    def close(self):
        if self.watchdog:
            self.watchdog.cancel()
        if self.proc and self.proc.poll() is None:
            try:
                self.qmp("quit", timeout=5)
            except Exception:
                pass
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, 9)   # our own session: QEMU and the sh that exec'd it, nothing else
                self.proc.wait(timeout=10)
        if self.qmp_sock:
            self.qmp_sock.close()
            self.qmp_sock = None
        for f in ("log", "stderr"):
            if getattr(self, f, None):
                getattr(self, f).close()
        shutil.rmtree(getattr(self, "tmp", ""), ignore_errors=True)

    # -- serial
    def _reader(self):
        out = self.proc.stdout
        while True:
            chunk = os.read(out.fileno(), 4096)
            if not chunk:
                break
            self.log.write(chunk)
            self.log.flush()
            with self.cond:
                self.buf += chunk
                self.arrivals.append((len(self.buf), time.monotonic()))
                self.cond.notify_all()
        with self.cond:
            self.eof = True
            self.cond.notify_all()

    def mark(self):
        """A position in the serial output: later waits can look only at what came after it."""
        with self.cond:
            return len(self.buf)

    def text(self, start=0, end=None):
        with self.cond:
            return bytes(self.buf[start:end]).decode("utf-8", "replace")

    def wait_for(self, pattern, timeout, since=0):
        """Waits until the regex (str) matches serial output after `since`; returns the match (positions are
        offsets into the whole output). Raises Timeout with the output's tail when it does not come in time."""
        rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        deadline = time.monotonic() + timeout
        with self.cond:
            while True:
                m = rx.search(self.buf, since)
                if m:
                    return Found(m)
                left = deadline - time.monotonic()
                if left <= 0 or self.eof:
                    tail = bytes(self.buf[-600:]).decode("utf-8", "replace")
                    why = "QEMU exited" if self.eof else f"no {pattern!r} within {timeout:.0f} s"
                    raise Timeout(f"{why}; serial ends with: {tail!r}")
                self.cond.wait(min(left, 1.0))

    def arrival(self, offset):
        """Seconds after QEMU started at which serial byte `offset` arrived."""
        with self.cond:
            for end, t in self.arrivals:
                if end > offset:
                    return t - self.t_start
        return None

    def serial_write(self, data, pace=0.02):
        """Bytes into the guest's serial port, one at a time (the 16550 FIFO is small and firmware polls it)."""
        if isinstance(data, str):
            data = data.encode()
        for b in data:
            self.proc.stdin.write(bytes([b]))
            self.proc.stdin.flush()
            time.sleep(pace)

    # -- QMP
    def _qmp_connect(self, path, deadline):
        while True:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                break
            except OSError:
                s.close()
                if self.proc.poll() is not None:
                    raise RuntimeError(f"QEMU exited with {self.proc.returncode} before QMP came up "
                                       f"(see {self.stderr.name})")
                if time.monotonic() > deadline:
                    raise Timeout("QMP socket never appeared")
                time.sleep(0.1)
        self.qmp_sock = s
        self.qmp_file = s.makefile("rwb")
        s.settimeout(30)
        json.loads(self.qmp_file.readline())   # greeting
        self.qmp("qmp_capabilities")

    def qmp(self, cmd, timeout=30, **args):
        self.qmp_sock.settimeout(timeout)
        msg = {"execute": cmd}
        if args:
            msg["arguments"] = args
        self.qmp_file.write(json.dumps(msg).encode() + b"\n")
        self.qmp_file.flush()
        while True:
            line = self.qmp_file.readline()
            if not line:
                raise RuntimeError(f"QMP closed during {cmd}")
            reply = json.loads(line)
            if "event" in reply:
                continue
            if "error" in reply:
                raise RuntimeError(f"QMP {cmd}: {reply['error']}")
            return reply.get("return")

    def send_key(self, *qcodes, hold_ms=60, gap=0.08):
        """Presses the keys together (e.g. 'ctrl', 'l'), releases them after hold_ms, waits gap seconds."""
        self.qmp("send-key", keys=[{"type": "qcode", "data": k} for k in qcodes], **{"hold-time": hold_ms})
        time.sleep(gap)

    def type_text(self, text, **kw):
        for c in text:
            self.send_key(*char_keys(c), **kw)

    def screendump(self, png=None):
        """The screen as (width, height, rgb bytes); also saved as PNG when png is given."""
        ppm = os.path.join(self.tmp, "screen.ppm")
        if os.path.exists(ppm):
            os.unlink(ppm)
        self.qmp("screendump", filename=ppm, timeout=60)
        w, h, rgb = read_ppm(ppm)
        if png:
            write_png(png, w, h, rgb)
        return w, h, rgb

    def ocr_screen(self, name, rows=None, psm=11, scale=2, channels=(0, 1, 2), keep=None):
        """Screendump, then OCR of the screen, or of the rows (y0, y1) that rows(w, h, rgb) picks; the screen and
        what tesseract was given are kept in build/e2e/NAME.png and NAME.ocr.png (the screen also in `keep`, a path,
        when given). Returns the text."""
        w, h, rgb = self.screendump(os.path.join(LOGS, f"{name}.png"))
        if keep:
            write_png(keep, w, h, rgb)
        ow, oh, ink = ocr_ready(w, h, rgb, rows(w, h, rgb) if rows else None, scale, channels=channels)
        path = os.path.join(LOGS, f"{name}.ocr.png")
        write_png(path, ow, oh, ink, gray=True)
        return ocr(path, psm)


# ---------------------------------------------------------------------------------------------------------------
# cases: PASS/FAIL lines for tests/run_tests.py

class Cases:
    """Runs named cases in order; a case whose prerequisite failed is reported as failed, never skipped silently."""

    def __init__(self):
        self.status = {}

    def run(self, name, fn, needs=()):
        missing = [n for n in needs if not self.status.get(n)]
        if missing:
            print(f"FAIL: {name}: not run, needs {', '.join(missing)}", flush=True)
            self.status[name] = False
            return None
        t0 = time.monotonic()
        try:
            result = fn()
        except Exception as e:   # any exception is this case's failure, reported with its reason
            print(f"FAIL: {name}: {type(e).__name__}: {e}", flush=True)
            self.status[name] = False
            return None
        print(f"PASS: {name} ({time.monotonic() - t0:.1f} s)", flush=True)
        self.status[name] = True
        return result

    def fail(self, name, why):
        print(f"FAIL: {name}: {why}", flush=True)
        self.status[name] = False

    def exit_code(self):
        return 0 if self.status and all(self.status.values()) else 1


def check(cond, why):
    if not cond:
        raise AssertionError(why)


def info(msg):
    """A measured figure or a note: shown in the test log, never asserted."""
    print(f"   info: {msg}", flush=True)


# ---------------------------------------------------------------------------------------------------------------
# the model inside build/efichat.efi, and the host CLI that must agree with it

MODEL_MAGIC = b"EFCM"         # docs/model-format.md: then u32 version (1 float, 2 int8 matrices), u32 header_bytes 128
MODEL_VERSIONS = (1, 2)


def extract_embedded_model(efi, out_path):
    """Finds the model file embedded in the EFI binary (a path, or its bytes): the header (version 1 or 2, 128 bytes)
    whose payload's CRC checks. Writes it out, so the host CLI runs exactly the model the app runs (the default build
    embeds the int8 form, version 2). Returns the model's name."""
    if isinstance(efi, (bytes, bytearray)):
        data, efi_path = efi, "the EFI binary"
    else:
        efi_path = efi
        with open(efi, "rb") as f:
            data = f.read()
    pos = data.find(MODEL_MAGIC)
    while pos >= 0:
        if pos + 128 > len(data) or struct.unpack_from("<II", data, pos + 4) not in [(v, 128) for v in MODEL_VERSIONS]:
            pos = data.find(MODEL_MAGIC, pos + 1)
            continue
        payload = struct.unpack_from("<Q", data, pos + 40)[0]
        crc = struct.unpack_from("<I", data, pos + 48)[0]
        body = data[pos + 128:pos + 128 + payload]
        if len(body) == payload and zlib.crc32(body) & 0xFFFFFFFF == crc:
            with open(out_path, "wb") as f:
                f.write(data[pos:pos + 128 + payload])
            return data[pos + 64:pos + 128].split(b"\0")[0].decode("utf-8", "replace")
        pos = data.find(MODEL_MAGIC, pos + 1)
    raise RuntimeError(f"no embedded model with a valid CRC in {efi_path}")


# The default image's Secure Boot layout (mk/disk.mk, SHIM=1): Debian's Microsoft-signed shim starts grubx64.efi.
SHIM_EFI = os.environ.get("SHIM_EFI", "/usr/lib/shim/shimx64.efi.signed")
MM_EFI = os.environ.get("MM_EFI", "/usr/lib/shim/mmx64.efi.signed")
APP_PATH = "/EFI/BOOT/grubx64.efi"   # where efichat lies on the default (shim) image


def make_image(out, app, files, shim=True, aa64_app=None, disk_mb=64):
    """A disk image like build/efichat.img, built by tools/mkimage.sh as `make disk` does: shim + MokManager with
    `app` as grubx64.efi (shim=True, the default layout) or `app` alone as BOOTX64.EFI, plus files
    {ESP path: host path}; aa64_app: the AArch64 build as BOOTAA64.EFI beside them; disk_mb: the image's size
    (more for big model files). Returns out."""
    specs = [f"{dest}={src}" for dest, src in files.items()]
    env = dict(os.environ, DISK_MB=str(disk_mb), SHIM_EFI=SHIM_EFI if shim else "", MM_EFI=MM_EFI if shim else "",
               AA64_APP=aa64_app or "")
    subprocess.run(["sh", os.path.join(ROOT, "tools", "mkimage.sh"), out, app] + specs, check=True, timeout=120,
                   env=env)
    return out


def esp_offset(image):
    """Byte offset of the first GPT partition (the ESP) in a disk image."""
    with open(image, "rb") as f:
        f.seek(512 * 2 + 32)   # LBA 2: the first partition entry; its first LBA is at byte 32
        return struct.unpack("<Q", f.read(8))[0] * 512


def read_esp_file(image, path):
    """A file from the image's ESP, read with mtools (e.g. '/EFI/BOOT/BOOTX64.EFI')."""
    r = subprocess.run(["mtype", "-i", f"{image}@@{esp_offset(image)}", "::" + path], capture_output=True,
                       env=dict(os.environ, MTOOLS_SKIP_CHECK="1"), timeout=60)
    if r.returncode != 0:
        raise RuntimeError(f"mtype {path}: {r.stderr.decode(errors='replace').strip()}")
    return r.stdout


def cli_generate(model, prompt, max_tokens, kernel="sse2", timeout=300):
    """Greedy continuation from build/efichat-cli (bytes), with the kernel the app reported (sse2, avx or q8)."""
    cli = os.path.join(BUILD, "efichat-cli")
    r = subprocess.run([cli, "generate", "--model", model, "--prompt", prompt, "--max", str(max_tokens),
                        "--temp", "0", "--kernel", "q8" if kernel == "q8" else "sse2"], capture_output=True,
                       timeout=timeout)
    if r.returncode != 0:
        raise RuntimeError(f"efichat-cli failed: {r.stderr.decode(errors='replace').strip()[-300:]}")
    return r.stdout
