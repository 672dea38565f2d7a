"""Model calls a step, on a stand-in that is not ours: plain, templated prose and options.

    python bench/calls.py [--steps 100] [--seeds 26,27] [--sentences 12,5] [--no-write] [--quick]

The figure in "Prompt cache" (bench/cache.py) is measured on the tests' own stand-in, whose
prose the guards were tuned on. This one is written apart from it (stdlib only, no code of
tests/standin.py): paragraphs made of twelve sentences drawn from sixteen templates (about the 180 words asked for), options from templates that
differ only in a name, a place or a thing ("Ask Mara about the ledger." / "Ask Tobin about the
ledger."), and a templated recap. It serves chat completions, streamed and not, and answers a
structured-output request with JSON that fits the schema it is given. The game plays it as a
player would: `python -m game write` in its own process, one run to make the slot (the opening),
a second to play the steps, taking options 1-3 and typed actions in turn. Calls a step = chat
requests of the second run / its steps. Design section 1: at most two calls a step; bar 2.1.
Writes "## Calls a step on an independent stand-in" in bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import machine, quick_check, write_section  # noqa: E402

NAMES = ["Mara", "Tobin", "Ilse", "Corin", "Wenna", "Abel", "Sefa", "Dorran"]
THINGS = ["ledger", "lantern", "brass key", "map", "letter", "compass", "rope", "seal", "crate", "bell"]
PLACES = ["hold", "deck", "galley", "wheelhouse", "quay", "chapel", "cellar", "market", "archive", "tower"]
VERBS = ["studies", "lifts", "hides", "turns over", "counts", "pockets", "wipes", "sets down"]
MOODS = ["quietly", "with care", "too quickly", "without a word", "as if it burned", "twice"]
SENTENCES = [
    "{name} {verb} the {thing} in the {place} {mood}.",
    "The {place} smells of tar and old rain, and the {thing} is where {name} left it.",
    "You hear {name} on the stairs of the {place}, then nothing.",
    "A {thing} hangs by a nail in the {place}, and nobody admits to putting it there.",
    "{name} says the {thing} belonged to someone from the {place}.",
    "Wind moves through the {place}; somewhere a {thing} knocks against wood.",
    "You find a scratch on the {thing}, fresh, shaped like a letter of {name}'s name.",
    "Outside the {place}, {name} waits with the {thing} held close.",
    "Rain ticks on the roof of the {place} while {name} talks about the {thing}.",
    "Nobody in the {place} will say who last touched the {thing}.",
    "{name} laughs at something you did not hear and turns toward the {place}.",
    "The lamp in the {place} gutters, and for a moment the {thing} throws a long shadow.",
    "You remember the {thing} from somewhere, though not from the {place}.",
    "Somebody has chalked a mark on the door of the {place}, and {name} pretends not to see it.",
    "{name} asks you, too casually, whether you have been down to the {place} today.",
    "A gull screams over the {place}, and {name} flinches at the sound.",
]
OPTIONS = ["Ask {name} about the {thing}.", "Search the {place} for the {thing}.", "Follow {name} to the {place}.",
           "Show {name} the {thing}.", "Go down to the {place}."]


class Templates:
    """Deterministic text from templates; each answer draws on a counter, so none repeats exactly."""

    def __init__(self, seed: int, sentences: int = 12) -> None:
        self.rng = random.Random(seed)
        self.lock = threading.Lock()
        self.sentences = sentences

    def fill(self, template: str) -> str:
        r = self.rng
        return template.format(name=r.choice(NAMES), thing=r.choice(THINGS), place=r.choice(PLACES),
                               verb=r.choice(VERBS), mood=r.choice(MOODS))

    def paragraph(self) -> str:
        with self.lock:
            picked = self.rng.sample(SENTENCES, self.sentences)  # 12: about the 180 words the game asks for
            return " ".join(self.fill(s) for s in picked)

    def options(self, count: int) -> list[str]:
        with self.lock:
            # Often the same template with another name, place or thing: different choices a guard must keep.
            template = self.rng.choice(OPTIONS)
            out = [self.fill(template)]
            while len(out) < count:  # three different actions, as the game asks for
                candidate = self.fill(template if len(out) == 1 else self.rng.choice(OPTIONS))
                if candidate not in out:
                    out.append(candidate)
            return out[:count]

    def recap(self) -> str:
        with self.lock:
            return " ".join(self.fill(s) for s in self.rng.sample(SENTENCES, 3))


def _value(templates: Templates, schema: dict, defs: dict, name: str):
    """A value that fits `schema`: options and memory from the templates, the rest plain."""
    if "$ref" in schema:
        return _value(templates, defs[schema["$ref"].split("/")[-1]], defs, name)
    for key in ("anyOf", "oneOf"):
        if key in schema:
            choices = [s for s in schema[key] if s.get("type") != "null"] or schema[key]
            return _value(templates, choices[0], defs, name)
    if "enum" in schema:
        return schema["enum"][0]
    kind = schema.get("type", "string")
    if kind == "object":
        return {key: _value(templates, sub, defs, key) for key, sub in schema.get("properties", {}).items()}
    if kind == "array":
        count = max(schema.get("minItems", 0), min(3, schema.get("maxItems", 3)))
        if name == "options":
            return templates.options(count)
        return [_value(templates, schema.get("items", {}), defs, name) for _ in range(count)]
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    text = templates.recap() if name in ("memory", "summary", "recap") else templates.paragraph().split(". ")[0] + "."
    return text[: schema.get("maxLength", len(text))]


class Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, seed: int, sentences: int = 12) -> None:
        super().__init__(("127.0.0.1", 0), Handler)
        self.templates = Templates(seed, sentences)
        self.chat = 0
        self.words: list[int] = []  # words of each paragraph told
        self.count_lock = threading.Lock()


class Handler(BaseHTTPRequestHandler):
    server: Server

    def log_message(self, *_args) -> None:
        pass

    def _send(self, status: int, payload: dict) -> None:
        data = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/").endswith("/models"):
            return self._send(200, {"object": "list", "data": [{"id": "templated", "object": "model"}]})
        self._send(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
        if not self.path.endswith("/chat/completions"):
            return self._send(404, {"error": {"message": "not found"}})
        with self.server.count_lock:
            self.server.chat += 1
        fmt = body.get("response_format") or {}
        schema = (fmt.get("json_schema") or {}).get("schema") or fmt.get("schema")
        if schema:
            text = json.dumps(_value(self.server.templates, schema, schema.get("$defs", {}), "value"))
        else:
            text = self.server.templates.paragraph()
            self.server.words.append(len(text.split()))
        usage = {"prompt_tokens": len(json.dumps(body.get("messages", []))) // 4, "completion_tokens": len(text) // 4}
        usage["total_tokens"] = usage["prompt_tokens"] + usage["completion_tokens"]
        base = {"id": "chatcmpl-templated", "created": int(time.time()), "model": body.get("model", "templated")}
        if not body.get("stream"):
            return self._send(200, {**base, "object": "chat.completion", "usage": usage, "choices": [
                {"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}]})
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        chunk = {**base, "object": "chat.completion.chunk"}
        words = text.split(" ")
        for i in range(0, len(words), 4):
            piece = " ".join(words[i:i + 4]) + (" " if i + 4 < len(words) else "")
            self.wfile.write(f"data: {json.dumps({**chunk, 'choices': [{'index': 0, 'delta': {'content': piece}, 'finish_reason': None}]})}\n\n".encode())
        self.wfile.write(f"data: {json.dumps({**chunk, 'choices': [{'index': 0, 'delta': {}, 'finish_reason': 'stop'}]})}\n\n".encode())
        if (body.get("stream_options") or {}).get("include_usage"):
            self.wfile.write(f"data: {json.dumps({**chunk, 'choices': [], 'usage': usage})}\n\n".encode())
        self.wfile.write(b"data: [DONE]\n\n")
        self.wfile.flush()


def play(steps: int, seed: int, sentences: int = 12) -> dict:
    server = Server(seed, sentences)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    with tempfile.TemporaryDirectory(prefix="recurrent-calls-") as folder:
        home = Path(folder)
        env = {**os.environ, "OPENAI_BASE_URL": f"http://127.0.0.1:{server.server_address[1]}/v1",
               "OPENAI_API_KEY": "sk-bench-not-a-key", "RECURRENT_MODEL": "templated", "HOME": str(home),
               "RECURRENT_SAVES_DIR": str(home / "saves"), "RECURRENT_CONFIG": str(home / "settings.toml"),
               "XDG_STATE_HOME": str(home / "state"), "XDG_DATA_HOME": str(home / "data"),
               "XDG_CACHE_HOME": str(home / "cache"), "PYTHONPATH": str(ROOT)}
        for name in ("RECURRENT_BACKEND", "RECURRENT_BASE_URL", "RECURRENT_CHROMA_HOST"):
            env.pop(name, None)
        rng = random.Random(seed)
        typed = [t.format(name=rng.choice(NAMES), thing=rng.choice(THINGS), place=rng.choice(PLACES))
                 for t in ("I ask {name} where the {thing} came from.", "I climb to the {place}.")]
        actions = home / "actions.txt"
        actions.write_text("\n".join(["1", "2", "3", typed[0], "1", typed[1]] * (steps // 6 + 1)) + "\n", encoding="utf-8")

        def run(*args: str) -> None:
            done = subprocess.run([sys.executable, "-m", "game", "write", "--slot", "calls", *args], env=env, cwd=ROOT,
                                  capture_output=True, text=True, timeout=60 + 10 * steps)
            if done.returncode != 0:
                raise SystemExit(f"write failed: {done.stderr.strip()[-500:]}")

        run("--story", "night-ferry-to-kestrel", "--steps", "1", "--actions", str(actions))
        before = server.chat
        started = time.perf_counter()
        run("--steps", str(steps), "--actions", str(actions))
        seconds = time.perf_counter() - started
        calls = server.chat - before
        journal = (home / "saves" / "calls" / "journal.jsonl").read_text(encoding="utf-8")
    server.shutdown()
    return {"steps": steps, "calls": calls, "per_step": calls / steps, "seconds": seconds, "sentences": sentences,
            "words": sum(server.words) / max(1, len(server.words)),
            "fallbacks": journal.count('"fallback":true')}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=100)
    parser.add_argument("--seeds", default="26,27", help="one run for each seed of the stand-in's choices")
    parser.add_argument("--sentences", default="12,5", help="sentences a paragraph, one set of runs for each")
    parser.add_argument("--no-write", dest="write", action="store_false")
    parser.add_argument("--quick", action="store_true", help="smoke size: one run of 4 steps, nothing written")
    args = parser.parse_args()
    if args.quick:
        result = play(4, 26, 12)
        quick_check({"calls_per_step": result["per_step"], "calls": result["calls"], "words": result["words"]})
        return 0
    runs = [play(args.steps, int(seed), int(n)) for n in args.sentences.split(",") for seed in args.seeds.split(",")]
    rows = [f"| {r['sentences']} ({r['words']:.0f} words) | {seed} | {r['steps']} | {r['calls']} | "
            f"**{r['per_step']:.2f}** | {r['fallbacks']} | {r['seconds']:.0f} s |"
            for r, seed in zip(runs, [s for _n in args.sentences.split(",") for s in args.seeds.split(",")])]
    text = "\n".join([
        f"{machine()}; `python bench/calls.py --steps {args.steps} --seeds {args.seeds} --sentences {args.sentences}`. "
        "A stand-in written apart from the tests' (bench/calls.py: stdlib, plain templated prose, options that differ "
        "only in a name, a place or a thing), played by `python -m game write` in its own process, taking options 1-3 "
        "and typed actions in turn; chat requests of the run counted by the server (the opening is made by a run before). "
        "Bar: at most 2.1 calls a step.", "",
        "| sentences a paragraph | seed | steps | chat requests | calls per step | fell back | time |",
        "| --- | --- | --- | --- | --- | --- | --- |", *rows, ""])
    print(text)
    if args.write:
        write_section("Calls a step on an independent stand-in", text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
