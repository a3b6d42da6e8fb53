"""formatscheck.py - what the tests in tests/formats share: the sanitized formats-tool, a PASS/FAIL reporter."""
import os, subprocess, sys

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BUILD = os.path.join(ROOT, os.environ.get("EFICHAT_BUILD", "build"))
TOOL = os.path.join(BUILD, "tests", "formats-tool")
sys.path.insert(0, os.path.join(ROOT, "tools"))
sys.path.insert(0, os.path.join(ROOT, "tests", "core"))
from corecheck import case, exit_code  # noqa: E402,F401  (one PASS/FAIL reporter for every Python test)


def tool(*args):
    """(exit status, stdout) of formats-tool; sanitizer reports go to stderr and end with a non-0/1 status."""
    p = subprocess.run([TOOL] + [str(a) for a in args], capture_output=True, text=True, errors="replace")
    if p.returncode not in (0, 1):
        sys.stdout.write(p.stderr[-3000:])
    return p.returncode, p.stdout


def expect_error(name, path, command, expected):
    """The reader refuses the file with a line containing `expected`, exit status 1 (no crash)."""
    rc, out = tool(command, path)
    line = next((l for l in out.splitlines() if l.startswith("error: ")), "")
    case(rc == 1 and expected in line, name, f"status {rc}, wanted an error line with '{expected}', got: {out[-300:]!r}")
