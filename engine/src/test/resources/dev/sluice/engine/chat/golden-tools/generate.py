#!/usr/bin/env python3
"""Expected renderings of llama.cpp's reference chat templates with tools, by Jinja2 as Hugging Face runs it.

The environment is golden/generate.py's (transformers' apply_chat_template). Two conversations:
"offer" offers two tools to a fresh question; "turns" is a whole tool round trip (an assistant turn
with two parallel calls and empty text (llama.cpp's choice: Qwen3's and other templates fail on None), their results, the answer, a follow-up question). Messages are
in OpenAI's shape, tool calls as {"id", "type": "function", "function": {"name", "arguments"}}, with
the arguments as a dict (Hugging Face's convention) unless the template cannot render a dict there
(DeepSeek's concatenate them as a string); ToolSupport makes the same choice by the same probe.
Writes NAME.VARIANT.txt, or NAME.VARIANT.error.txt with the message when the template raises;
templates Jinja2 cannot render with these variables are skipped.

Regenerate after bumping llama.cpp:  python3 generate.py ~/.cache/sluice/src/llama.cpp-<v>/models/templates
"""
import glob
import json
import os
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "golden"))
from generate import env, TemplateRaised  # noqa: E402

TOOLS = [
    {"type": "function", "function": {
        "name": "get_weather", "description": "Current weather in a city.",
        "parameters": {"type": "object", "properties": {
            "city": {"type": "string", "description": "City name"},
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]}},
            "required": ["city"]}}},
    {"type": "function", "function": {
        "name": "add", "description": "Adds two integers.",
        "parameters": {"type": "object", "properties": {"a": {"type": "integer"}, "b": {"type": "integer"}},
                       "required": ["a", "b"], "additionalProperties": False}}},
]

CALLS = [("call00001", "get_weather", {"city": "Paris", "unit": "celsius"}),
         ("call00002", "add", {"a": 2, "b": 40})]


def turns(objects):
    def args(a):
        return a if objects else json.dumps(a, ensure_ascii=False)
    return [
        {"role": "system", "content": "You are a helpful assistant."},
        {"role": "user", "content": "Weather in Paris, and 2 + 40?"},
        {"role": "assistant", "content": "", "tool_calls": [
            {"id": i, "type": "function", "function": {"name": n, "arguments": args(a)}} for i, n, a in CALLS]},
        {"role": "tool", "tool_call_id": "call00001", "name": "get_weather", "content": "{\"temperature\": 21}"},
        {"role": "tool", "tool_call_id": "call00002", "name": "add", "content": "42"},
        {"role": "assistant", "content": "It is 21 degrees in Paris, and 2 + 40 = 42."},
        {"role": "user", "content": "Thanks! And in Tokyo?"},
    ]


OFFER = [{"role": "system", "content": "You are a helpful assistant."},
         {"role": "user", "content": "What is the weather in Paris?"}]


def objects_work(template):
    """ToolSupport's probe: dict arguments render as JSON, not as a re-escaped string or a repr (or the
    string form does not render either: then dicts, Hugging Face's convention)."""
    probe = [{"role": "user", "content": "Hello"},
             {"role": "assistant", "content": "", "tool_calls": [{"id": "probe0001", "type": "function", "function": {
                 "name": "sluice_probe_call", "arguments": {"probe_arg": "probe-value-1"}}}]},
             {"role": "tool", "tool_call_id": "probe0001", "name": "sluice_probe_call", "content": "sluice-probe-result"},
             {"role": "assistant", "content": "Done."}, {"role": "user", "content": "Thanks"}]
    try:
        out = template.render(messages=probe, add_generation_prompt=True, bos_token="<s>", eos_token="</s>")
    except Exception:
        out = ""
    if not ("probe-value-1" in out and "\\\"probe_arg" not in out and "{probe_arg=probe-value-1}" not in out
            and "{'probe_arg': 'probe-value-1'}" not in out):
        probe[1]["tool_calls"][0]["function"]["arguments"] = json.dumps({"probe_arg": "probe-value-1"})
        try:
            strings = "sluice_probe_call" in template.render(messages=probe, add_generation_prompt=True,
                                                             bos_token="<s>", eos_token="</s>")
        except Exception:
            strings = False
        return not strings
    return True


def main(templates, out):
    for path in sorted(glob.glob(os.path.join(templates, "*.jinja"))):
        name = os.path.basename(path)[:-len(".jinja")]
        with open(path, encoding="utf-8") as f:
            template = env.from_string(f.read())
        objects = objects_work(template)
        for variant, messages in (("offer", OFFER), ("turns", turns(objects))):
            try:
                text = template.render(messages=messages, tools=TOOLS, add_generation_prompt=True,
                                       bos_token="<s>", eos_token="</s>")
                suffix = ".txt"
            except TemplateRaised as e:
                text, suffix = str(e), ".error.txt"
            except Exception as e:  # needs variables a chat does not pass, or Python-only behaviour
                print(f"skipped {name}.{variant}: {type(e).__name__}: {e}", file=sys.stderr)
                continue
            with open(os.path.join(out, f"{name}.{variant}{suffix}"), "w", encoding="utf-8", newline="") as f:
                f.write(text)


if __name__ == "__main__":
    main(sys.argv[1], os.path.dirname(os.path.abspath(__file__)))
