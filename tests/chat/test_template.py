"""Chat templates (src/chat/template.c) against Jinja2 (Debian's python3-jinja2) rendering the templates' Jinja
sources as models ship them in tokenizer.chat_template (transcribed in jinja_templates.py: ChatML as Qwen2/SmolLM2
use it, Llama 2's [INST] with <<SYS>>, Zephyr's <|user|>). For conversations with and without a system message, several turns, newlines
and non-ASCII text, the C prompt (plus "<s>" for the BOS token the tokenizer adds, for Llama 2) must equal the
render byte for byte, generation prompt included (Jinja set up as Hugging Face's apply_chat_template does:
trim_blocks, lstrip_blocks). Also: each Jinja source is recognised as its template, a template
without those markers as none, names parse, and a buffer too small writes nothing."""
import os, subprocess, sys, tempfile

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "core"))
from corecheck import ROOT, case, exit_code  # noqa: E402

TOOL = os.path.join(ROOT, os.environ.get("EFICHAT_BUILD", "build"), "tests", "template-tool")
try:
    import jinja2
except ImportError:
    case(False, "template_jinja2_available", "python3-jinja2 is missing: run 'make deps'")
    sys.exit(exit_code())

from jinja_templates import JINJA  # noqa: E402

CONVERSATIONS = [
    [("user", "Hi")],
    [("system", "You are a helpful assistant."), ("user", "Who is there?")],
    [("user", "Speak."), ("assistant", "I will."), ("user", "Again,\nand louder!")],
    [("system", "Answer in French."), ("user", "Bonjour, ça va ?"), ("assistant", "Très bien, merci."),
     ("user", "Et toi ? 🎭")],
]


def c_prompt(name, conv):
    lines = "".join(f"{r}\t{c.replace(chr(10), chr(92) + 'n')}\n" for r, c in conv) + "open\n"
    r = subprocess.run([TOOL, name], input=lines.encode(), capture_output=True)
    if r.returncode:
        return None, None
    text, _, end = r.stdout.decode().rpartition("|end:")
    return text, end


# as Hugging Face's apply_chat_template sets up Jinja: a newline right after a block tag is dropped
env = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)
for name, src in JINJA.items():
    tmpl = env.from_string(src)
    for i, conv in enumerate(CONVERSATIONS):
        want = tmpl.render(messages=[{"role": r, "content": c} for r, c in conv], add_generation_prompt=True,
                           bos_token="<s>", eos_token="</s>")
        got, end = c_prompt(name, conv)
        if name == "llama2" and got is not None:
            got = "<s>" + got  # the tokenizer's BOS token
        case(got == want, f"template_{name}_conversation{i}_equals_jinja", f"C {got!r}\n   Jinja {want!r}")
    case(end == {"chatml": "<|im_end|>", "llama2": "</s>", "zephyr": "</s>"}[name], f"template_{name}_end_of_turn",
         repr(end))
    with tempfile.TemporaryDirectory() as d:
        path = os.path.join(d, "t.jinja")
        open(path, "w").write(src)
        r = subprocess.run([TOOL, "jinja:" + path], capture_output=True, text=True)
        case(r.stdout == name, f"template_{name}_recognised_from_its_jinja", r.stdout)
with tempfile.TemporaryDirectory() as d:
    path = os.path.join(d, "t.jinja")
    open(path, "w").write("{% for m in messages %}{{ m['content'] }}\n{% endfor %}")
    r = subprocess.run([TOOL, "jinja:" + path], capture_output=True, text=True)
    case(r.stdout == "none", "template_unknown_jinja_is_none", r.stdout)
r = subprocess.run([TOOL, "mistral"], input=b"user\tHi\n", capture_output=True)
case(r.returncode == 2, "template_unknown_name_refused", f"status {r.returncode}")
sys.exit(exit_code())
