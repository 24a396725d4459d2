#!/usr/bin/env python3
"""Expected renderings of llama.cpp's reference chat templates, by Jinja2 as Hugging Face runs it.

transformers' apply_chat_template renders with an ImmutableSandboxedEnvironment(trim_blocks=True,
lstrip_blocks=True) plus loopcontrols and its AssistantTracker ({% generation %}), a tojson filter
over json.dumps(ensure_ascii=False), raise_exception and strftime_now. This script does the same
(strftime_now at the fixed time ChatTemplateGoldenTest uses) for three conversations and writes
NAME.VARIANT.txt, or NAME.VARIANT.error.txt with the message when the template raises.

Regenerate after bumping llama.cpp:  python3 generate.py ~/.cache/sluice/src/llama.cpp-<v>/models/templates
"""
import glob
import json
import os
import sys
from datetime import datetime

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

NOW = datetime(2025, 3, 7, 14, 30)

CONVERSATIONS = {
    # The conversation llama.cpp's tests/test-chat-template.cpp uses.
    "sys": ([("system", "You are a helpful assistant"), ("user", "Hello"), ("assistant", "Hi there"),
             ("user", "Who are you"), ("assistant", "   I am an assistant   "), ("user", "Another question")], True),
    "nosys": ([("user", "Hello"), ("assistant", "Hi there"), ("user", "Who are you"),
               ("assistant", "   I am an assistant   "), ("user", "Another question")], True),
    # Template syntax, quotes, backslashes, control characters and non-ASCII in content; no generation prompt.
    "tricky": ([("system", "  Be terse. {{ 7*7 }} {% if true %}x{% endif %}  "),
                ("user", "Quote \" and \\ backslash\n\ttab, emoji 🧑‍💻, 日本語"),
                ("assistant", "\n<think>\nhmm\n</think>\n\nAnswer: {'a': 1}\n"), ("user", "Thanks!")], False),
}


class TemplateRaised(Exception):
    pass


def raise_exception(message):
    raise TemplateRaised(message)


class AssistantTracker(Extension):
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render", []), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[AssistantTracker, loopcontrols])
env.filters["tojson"] = lambda x, ensure_ascii=False, indent=None, separators=None, sort_keys=False: json.dumps(
    x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)
env.globals["raise_exception"] = raise_exception
env.globals["strftime_now"] = lambda fmt: NOW.strftime(fmt)


def main(templates, out):
    for path in sorted(glob.glob(os.path.join(templates, "*.jinja"))):
        name = os.path.basename(path)[:-len(".jinja")]
        with open(path, encoding="utf-8") as f:
            template = env.from_string(f.read())
        for variant, (conversation, add_generation_prompt) in CONVERSATIONS.items():
            try:
                text = template.render(messages=[{"role": r, "content": c} for r, c in conversation],
                                       add_generation_prompt=add_generation_prompt, bos_token="<s>", eos_token="</s>")
                suffix = ".txt"
            except TemplateRaised as e:
                text, suffix = str(e), ".error.txt"
            except jinja2.UndefinedError:
                continue  # needs variables a plain chat does not pass (tools, dates)
            with open(os.path.join(out, f"{name}.{variant}{suffix}"), "w", encoding="utf-8", newline="") as f:
                f.write(text)


if __name__ == "__main__":
    main(sys.argv[1], os.path.dirname(os.path.abspath(__file__)))
