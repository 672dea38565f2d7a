"""A small OpenAI-compatible server for tests and benchmarks, on 127.0.0.1.

It speaks chat completions (plain, streamed, and structured with a JSON schema)
and embeddings, so the real `openai` client, its streaming and our retries are
exercised. Answers are made from the request (narration echoes the player's
action; structured answers fill the requested schema), or taken from a script.
Faults can be queued one by one or injected at a rate with a fixed seed.

Besides the everyday faults (429, 500, slow, cut, invalid JSON) it plays a hostile
server (`HOSTILE`): answers nested 200,000 deep, answers of tens of megabytes, 300,000
`{`, SSE keep-alive comments that never end, an error that echoes the request's
Authorization header, a stream cut short and then ended with finish_reason "stop",
a 0xff byte in an SSE line, and an HTML page served as application/json.
"""
from __future__ import annotations

import hashlib
from pathlib import Path
import json
import random
import re
import threading
import time
from collections import deque
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

EVERYDAY = ("429", "500", "slow", "cut", "invalid")
HOSTILE = ("deep", "deep-body", "huge", "braces", "ping", "endless", "echo-auth", "cut-stop", "xff", "html-json")
FAULTS = EVERYDAY + ("drop", "html", "garbled", "quota", "400") + HOSTILE


def free_port() -> int:
    """A loopback port nothing listens on (for "server down" tests)."""
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tokens(text: str) -> int:
    return max(1, len(text) // 4)


# Scenery as a real model writes it: no sentence said again within a few paragraphs (a repeat
# would be a guard's business), every paragraph ending with a whole sentence.
SCENERY = [
    "The lamp hisses and the shadows lean closer while the wind worries at the shutters.",
    "Rain needles the window and runs in crooked lines down the glass.",
    "A draught finds the back of your neck and is gone again.",
    "Somewhere a clock ticks, slow and patient, as if it has all night.",
    "The floorboards answer every step with a small complaint.",
    "Dust turns in the lamplight like something alive.",
    "Far off, a bell tolls twice and then thinks better of it.",
    "The smell of salt and old paper hangs in the air.",
    "A moth batters itself against the glass of the lamp.",
    "Water drips steadily into a bucket by the door.",
    "The walls are papered with charts gone brown at the edges.",
    "Your breath clouds in the cold and fades.",
    "A gull cries once outside, very close, and then nothing.",
    "The stove has gone out, and the iron ticks as it cools.",
    "On the shelf a row of jars catches the light, each one labelled in faded ink.",
    "The wind drops for a moment, and the silence is louder than the storm.",
    "A rope creaks against its cleat somewhere overhead.",
    "The door behind you settles in its frame with a soft click.",
    "Someone has scratched initials into the table, deep and careful.",
    "The candle gutters, steadies, and burns on.",
    "There is mud on the threshold, not yet dry.",
    "A coat hangs on the hook, still beaded with rain.",
    "The great lens throws its beam across the water and sweeps it back again.",
    "Beyond the glass the sea heaves, black and enormous.",
    "A chair has been pushed back from the desk in a hurry.",
    "The ink in the pot has a skin on it, days old.",
    "Every so often the whole building shudders under a gust.",
    "A cat watches you from the top of the stairs and does not blink.",
    "The kettle is cold, but two cups stand beside it.",
]
ENDINGS = [
    "Somewhere below, a door opens and closes again, and the house settles into a listening quiet.",
    "Then the noise stops, and the room holds a listening quiet.",
    "The storm draws breath, and for a while there is only a listening quiet.",
    "Your own heartbeat slows, and the place falls into a listening quiet.",
    "Even the wind seems to wait, and everything keeps a listening quiet.",
    "The last echo fades down the stairwell into a listening quiet.",
    "Outside, the waves hush for a heartbeat, leaving a listening quiet.",
    "Nobody answers, and the dark settles back into a listening quiet.",
    "The lamp steadies, and the tower returns to its listening quiet.",
    "A sigh runs through the timbers and dies away in a listening quiet.",
    "You wait, and the whole night seems to lean in with a listening quiet.",
]
VERBS = ["Search", "Open", "Follow", "Examine", "Climb", "Watch", "Question"]
OBJECTS = ["logbook", "stair", "keeper's desk", "lamp", "old chest", "window", "gallery", "cellar", "map", "ledger", "boat"]
MANNERS = ["carefully", "at once", "in silence", "once more", "without a sound"]


def _pick(words: list[str], n: int) -> str:
    return words[n % len(words)]


def scenery(n: int) -> str:
    """Paragraph n's scenery: two sentences of SCENERY and an ending, none of them in the three
    paragraphs before it."""
    return f"{SCENERY[2 * n % len(SCENERY)]} {SCENERY[(2 * n + 1) % len(SCENERY)]} {ENDINGS[n % len(ENDINGS)]}"


class Brain:
    """Deterministic answers made from what was asked."""

    def __init__(self) -> None:
        self.counter = 0
        self.told = 0  # paragraphs so far

    def narrate(self, messages: list[dict]) -> str:
        self.counter += 1
        self.told += 1
        last = messages[-1]["content"] if messages else ""
        action = last.strip().splitlines()[-1] if last.strip() else "wait"
        action = re.sub(r"^[^:]{0,40}:\s*", "", action)[:160]
        return f"You {action.rstrip('.').lower()}. {scenery(self.told)}"

    def fill(self, schema: dict, defs: dict, name: str = "value", depth: int = 0):
        if "$ref" in schema:
            return self.fill(defs[schema["$ref"].split("/")[-1]], defs, name, depth)
        if "anyOf" in schema:
            options = [s for s in schema["anyOf"] if s.get("type") != "null"] or schema["anyOf"]
            return self.fill(options[0], defs, name, depth)
        if "enum" in schema:
            return schema["enum"][0]
        kind = schema.get("type", "string")
        if kind == "object":
            return {key: self.fill(sub, defs, key, depth + 1) for key, sub in schema.get("properties", {}).items()}
        if kind == "array":
            count = schema.get("minItems", 1) or 1
            count = max(count, min(3, schema.get("maxItems", 3)))
            return [self.fill(schema.get("items", {}), defs, f"{name} {i + 1}", depth + 1) for i in range(count)]
        if kind == "integer":
            return max(schema.get("minimum", 1), 1)
        if kind == "number":
            return 0.5
        if kind == "boolean":
            return False
        self.counter += 1
        if name.startswith("options"):  # an action, as a model would offer one
            n = self.counter
            return f"{_pick(VERBS, n)} the {_pick(OBJECTS, n)} {_pick(MANNERS, n)}."[: schema.get("maxLength", 200)]
        text = f"{name.replace('_', ' ').capitalize()} {self.counter}: the story goes on."
        if name == "note":  # as a model writes it: two or three sentences, longer than an option
            text += " The lamp still burns in the tower. Nobody has answered the knock at the door yet."
        return text[: schema.get("maxLength", len(text))].ljust(schema.get("minLength", 0), ".")



class WeakBrain(Brain):
    """A small model's habits, in turn and deterministically: prose that echoes the prompt's labels,
    a paragraph that starts by copying the one before, a paragraph looping on itself, options that
    are fragments or field names, a recap that repeats. Every fourth paragraph and every third set
    of options is a good one, so that a guard that harms good output shows too."""

    def __init__(self) -> None:
        super().__init__()
        self.notes = 0  # bookkeeping answers so far
        self.previous = ""

    def narrate(self, messages: list[dict]) -> str:
        self.told += 1
        last = messages[-1]["content"] if messages else ""
        action = last.strip().splitlines()[-1] if last.strip() else "wait"
        action = re.sub(r"^[^:]{0,40}:\s*", "", action)[:160]
        scene = f"You {action.rstrip('.').lower()}. {scenery(self.told)}"
        habit = self.told % 4
        if habit == 1:  # the prompt's scaffolding, echoed into the story
            text = f"## The next paragraph\nThe story has just begun.\n{scene}\n(the reader chose: {action})\n### Remembered from earlier"
        elif habit == 2 and self.previous:  # the paragraph before, said again first
            text = f"{self.previous} {scene}"
        elif habit == 3:  # one block, over and over
            text = " ".join([scene] * 4)
        else:
            text = scene
        self.previous = scene
        return text

    def fill(self, schema: dict, defs: dict, name: str = "value", depth: int = 0):
        value = super().fill(schema, defs, name, depth)
        if depth == 0 and isinstance(value, dict) and "options" in value:
            self.notes += 1
            habit = self.notes % 3
            if habit == 1:
                value["options"] = ["the case of", "the case of the", "the case of the"]
            elif habit == 2:
                value["options"] = ["options", "options", "options"]
            else:
                value["options"] = ["Ask the captain who was on deck.", "Search the stern rail for marks.",
                                    "Go below and knock on cabin 14."]
            if "memory" in value:
                value["memory"] = " ".join(["Ruth searches the ferry for the missing jeweller."] * 5)
        return value

class StandIn:
    """Start with `with StandIn() as server:`; `server.url` is the base URL for the openai client."""

    def __init__(self, *, fault_rate: float = 0.0, seed: int = 7, slow_seconds: float = 2.0, brain: Brain | None = None,
                 kinds: tuple[str, ...] = EVERYDAY):
        self.brain = brain or Brain()
        self.faults: deque[str] = deque()  # queued faults, used first
        self.fault_rate = fault_rate
        self.kinds = kinds  # the faults drawn at `fault_rate`
        self.rng = random.Random(seed)
        self.slow_seconds = slow_seconds
        self.script: deque[str] = deque()  # scripted reply texts, used before the brain
        self.requests: list[dict] = []
        self.arrived: list[float] = []  # time.perf_counter() as each request came in
        self.api_keys: set[str] = set()  # the bearer tokens requests came with
        self.faults_sent: list[str] = []
        self.chunk_words = 4
        self.chunk_seconds = 0.0  # a pause after each streamed chunk: a slow server
        self.refuse_schema = False  # answer 400 to response_format json_schema, as some servers do
        self.like_llama_cpp_python = False  # answer 500 to json_schema as llama-cpp-python's server does
        self.finishes: deque[str] = deque()  # finish reasons for the next streamed answers ("length")
        self.window: int | None = None  # a context window to report as llama.cpp's server does (/props)
        # Slots saved and restored as llama.cpp's server does with --slot-save-path (this folder),
        # for the model file it names in /props; a restored slot's tokens count as cached once.
        self.slot_dir: Path | None = None
        self.model_file: Path | None = None
        self.slot_tokens = 0  # the prompt the slot holds
        self.restored = 0  # tokens restored into the slot, not yet used
        self.usage = True  # report usage (llama-cpp-python's server does not when streaming)
        self.tokenizer = None  # text -> token count, served at /extras/tokenize/count as llama-cpp-python does
        self.release = threading.Event()  # set to let "hold" answers finish
        self.holding = threading.Event()  # set when a "hold" request has arrived
        self.ping_seconds = 0.2  # "ping" and "endless": the pause between keep-alives or pieces
        self.depth = 200_000  # "deep" and "deep-body": how deep the nesting goes
        self.huge_chars = 30_000_000  # "huge": the size of the memory in the answer
        self.lock = threading.Lock()
        self._server: ThreadingHTTPServer | None = None

    # -- control -------------------------------------------------------------
    @property
    def url(self) -> str:
        assert self._server is not None
        return f"http://127.0.0.1:{self._server.server_address[1]}/v1"

    def fail(self, *kinds: str) -> None:
        for kind in kinds:
            assert kind in FAULTS or kind in ("hold", "hold-notes", "ok"), kind
            self.faults.append(kind)

    def say(self, *texts: str) -> None:
        self.script.extend(texts)

    def chat_requests(self) -> list[dict]:
        return [r for r in self.requests if r.get("messages") is not None]

    def narrations(self) -> list[dict]:
        """The requests for prose: streamed, with no structured output asked."""
        return [r for r in self.chat_requests() if r.get("stream") and not r.get("response_format") and not r.get("grammar")]

    def __enter__(self) -> "StandIn":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        handler = type("Handler", (_Handler,), {"standin": self})
        self._server = _Server(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        # stop() waits for serve_forever to look at its flag, which it does once a poll_interval:
        # at the default 0.5 s every test paid 0.25-0.5 s to stop its server (48 s of the 75 s
        # of `pytest -m "not slow"` in one process); 0.02 s costs the idle thread little.
        threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02}, daemon=True).start()

    def stop(self) -> None:
        self.release.set()
        if self._server:
            self._server.shutdown()
            self._server.server_close()

    # -- answers --------------------------------------------------------------
    def next_fault(self) -> str | None:
        with self.lock:
            if self.faults:
                fault = self.faults.popleft()
                if fault == "ok":  # a placeholder: this request goes through
                    return None
            elif self.fault_rate and self.rng.random() < self.fault_rate:
                fault = self.rng.choice(self.kinds)
            else:
                return None
            self.faults_sent.append(fault)
            return fault

    def answer(self, body: dict) -> str:
        with self.lock:
            if self.script:
                return self.script.popleft()
            fmt = body.get("response_format") or {}
            if fmt.get("type") == "json_schema":
                schema = fmt["json_schema"]["schema"]
                return json.dumps(self.brain.fill(schema, schema.get("$defs", {})))
            if fmt.get("type") == "json_object" and isinstance(fmt.get("schema"), dict):
                return json.dumps(self.brain.fill(fmt["schema"], fmt["schema"].get("$defs", {})))
            if fmt.get("type") == "json_object":
                return json.dumps({"text": "ok"})
            return self.brain.narrate(body.get("messages", []))


class _Server(ThreadingHTTPServer):
    def handle_error(self, request, client_address) -> None:
        import sys

        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError)):
            return  # the client gave up (a timeout, a killed game): expected, not worth a traceback
        super().handle_error(request, client_address)


class _Handler(BaseHTTPRequestHandler):
    standin: StandIn
    protocol_version = "HTTP/1.0"

    def log_message(self, *args) -> None:  # keep test output clean
        pass

    def _json(self, status: int, payload: dict, headers: dict | None = None) -> None:
        self._raw(status, "application/json", json.dumps(payload).encode(), headers)

    def _raw(self, status: int, kind: str, data: bytes, headers: dict | None = None) -> None:
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        if self.path.rstrip("/") == "/props" and self.standin.model_file is not None:
            return self._json(200, {"default_generation_settings": {"n_ctx": self.standin.window or 4096}, "total_slots": 1,
                                    "model_path": str(self.standin.model_file), "build_info": "standin"})
        if self.path.rstrip("/") == "/props" and self.standin.window:
            return self._json(200, {"default_generation_settings": {"n_ctx": self.standin.window}, "total_slots": 1})
        if self.path.rstrip("/").endswith("/models"):
            self._json(200, {"object": "list", "data": [{"id": "standin", "object": "model", "owned_by": "tests"}]})
        else:
            self._json(404, {"error": {"message": "not found"}})

    def do_POST(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = json.loads(self.rfile.read(length) or b"{}")
        self.standin.requests.append(body)
        self.standin.arrived.append(time.perf_counter())
        self.standin.api_keys.add((self.headers.get("Authorization") or "").removeprefix("Bearer "))
        if self.path.endswith("/embeddings"):
            return self._embeddings(body)
        if self.path.startswith("/slots/0?action="):
            return self._slot(self.path.split("=", 1)[1], str(body.get("filename", "")))
        if self.path.rstrip("/") == "/extras/tokenize/count" and self.standin.tokenizer is not None:
            return self._json(200, {"count": self.standin.tokenizer(body.get("input", ""))})
        if not self.path.endswith("/chat/completions"):
            return self._json(404, {"error": {"message": "not found"}})
        fault = self.standin.next_fault()
        fmt = (body.get("response_format") or {}).get("type")
        if self.standin.refuse_schema and fmt in ("json_schema", "json_object"):
            return self._json(400, {"error": {"message": f"response_format {fmt} is not supported"}})
        if self.standin.like_llama_cpp_python and fmt not in (None, "text", "json_object"):
            return self._json(500, {"error": {"type": "internal_server_error", "message": (
                "1 validation error:\n  {'type': 'literal_error', 'loc': ('body', 'response_format', 'type'), "
                f"'msg': \"Input should be 'text' or 'json_object'\", 'input': '{fmt}'}}")}})
        if fault == "html":
            return self._raw(200, "text/html", b"<html><body>Welcome to nginx!</body></html>")
        if fault == "echo-auth":  # a careless server quoting the request back, key and all
            echoed = self.headers.get("Authorization") or ""
            return self._json(500, {"error": {"message": f"upstream refused the request (Authorization: {echoed}); "
                                                         f"headers were {{'authorization': '{echoed}'}}"}})
        if fault == "html-json":  # a proxy's error page, labelled as JSON
            return self._raw(200, "application/json", b"<!DOCTYPE html><html><body><h1>502 Bad Gateway</h1></body></html>")
        if fault in ("ping", "endless"):
            return self._keep_alive(body, fault)
        if fault == "deep-body":
            nested = "[" * self.standin.depth + "]" * self.standin.depth
            if body.get("stream"):
                self.send_response(200)
                self.send_header("Content-Type", "text/event-stream")
                self.end_headers()
                self.wfile.write(f"data: {nested}\n\n".encode())
                return
            return self._raw(200, "application/json", f'{{"id": "x", "object": "chat.completion", "choices": {nested}}}'.encode())
        if fault == "quota":
            return self._json(429, {"error": {"message": "You exceeded your current quota.", "code": "insufficient_quota",
                                              "type": "insufficient_quota"}})
        if fault == "400":
            return self._json(400, {"error": {"message": "This model's maximum context length is 2048 tokens."}})
        if fault == "429":
            return self._json(429, {"error": {"message": "rate limited"}}, {"retry-after-ms": "10"})
        if fault == "500":
            return self._json(500, {"error": {"message": "server error"}})
        if fault == "drop":
            self.close_connection = True
            return
        if fault == "slow":
            time.sleep(self.standin.slow_seconds)
        if fault == "hold":
            self.standin.holding.set()
            self.standin.release.wait(30)
        text = self.standin.answer(body)
        if fault == "invalid":
            text = "Sure! Here is the memory: **Memory:** it was a dark night {not json"
        elif fault == "deep":
            depth = self.standin.depth
            text = '{"memory": ' + "[" * depth + "]" * depth + "}"
        elif fault == "huge":
            text = json.dumps({"memory": "x" * self.standin.huge_chars, "options": ["a" * 100_000, "b", "c"]})
        elif fault == "braces":
            text = "{" * 300_000
        elif fault == "cut-stop":
            text = text[: len(text) // 3]  # mid-word, and then the server says it finished
        prompt = _tokens(json.dumps(body.get("messages", [])))
        if body.get("stream"):
            return self._stream(body, text, prompt, cut=(fault == "cut"), garbled=(fault == "garbled"),
                                hold_at=text.find('"note"') if fault == "hold-notes" else -1, xff=(fault == "xff"))
        self._json(200, {
            "id": "chatcmpl-standin", "object": "chat.completion", "created": int(time.time()),
            "model": body.get("model", "standin"),
            "choices": [{"index": 0, "message": {"role": "assistant", "content": text}, "finish_reason": "stop"}],
            "usage": {"prompt_tokens": prompt, "completion_tokens": _tokens(text), "total_tokens": prompt + _tokens(text)},
        })

    def _slot(self, action: str, filename: str) -> None:
        """llama.cpp's slot actions: 501 without a slot folder, as a server without --slot-save-path."""
        standin, folder = self.standin, self.standin.slot_dir
        if folder is None:
            return self._json(501, {"error": {"code": 501, "type": "not_supported_error", "message":
                                              "This server does not support slots action. Start it with `--slot-save-path`"}})
        if action == "erase":
            standin.slot_tokens = 0
            return self._json(200, {"id_slot": 0, "n_erased": 0})
        if not filename or "/" in filename or ".." in filename:
            return self._json(400, {"error": {"code": 400, "message": "Invalid filename"}})
        if action == "save":
            data = json.dumps({"tokens": standin.slot_tokens}).encode() + b"\n" + bytes(range(256)) * 8
            (folder / filename).write_bytes(data)
            return self._json(200, {"id_slot": 0, "filename": filename, "n_saved": standin.slot_tokens, "n_written": len(data)})
        if action == "restore":
            try:
                standin.restored = json.loads((folder / filename).read_bytes().split(b"\n", 1)[0])["tokens"]
            except (OSError, ValueError, KeyError):
                return self._json(400, {"error": {"code": 400, "message": "Unable to restore slot"}})
            return self._json(200, {"id_slot": 0, "filename": filename, "n_restored": standin.restored})
        return self._json(400, {"error": {"code": 400, "message": "Invalid action"}})

    def _keep_alive(self, body: dict, fault: str) -> None:
        """A server that keeps the connection busy and never finishes: SSE comments (`: ping`), or
        ("endless") a few words at a time forever; unstreamed, a JSON body of nothing but spaces."""
        streamed = bool(body.get("stream"))
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream" if streamed else "application/json")
        self.end_headers()
        piece = {"id": "chatcmpl-standin", "object": "chat.completion.chunk", "created": int(time.time()),
                 "model": body.get("model", "standin"),
                 "choices": [{"index": 0, "delta": {"content": "and on "}, "finish_reason": None}]}
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and not self.standin.release.is_set():
            if not streamed:
                self.wfile.write(b" ")
            elif fault == "ping":
                self.wfile.write(b": ping\n\n")
            else:
                self.wfile.write(f"data: {json.dumps(piece)}\n\n".encode())
            self.wfile.flush()  # raises once the client has gone, which ends this
            time.sleep(self.standin.ping_seconds)

    def _stream(self, body: dict, text: str, prompt: int, cut: bool, garbled: bool = False, hold_at: int = -1,
                xff: bool = False) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/event-stream")
        self.end_headers()
        words = text.split(" ")
        size = self.standin.chunk_words
        pieces = [" ".join(words[i:i + size]) + (" " if i + size < len(words) else "") for i in range(0, len(words), size)]
        if cut:
            pieces = pieces[: max(1, len(pieces) // 2)]

        def send(payload: dict) -> None:
            self.wfile.write(f"data: {json.dumps(payload)}\n\n".encode())
            self.wfile.flush()

        base = {"id": "chatcmpl-standin", "object": "chat.completion.chunk", "created": int(time.time()), "model": body.get("model", "standin")}
        sent = 0
        for piece in pieces:
            if 0 <= hold_at <= sent:  # "hold-notes": the options are out; wait before the rest
                hold_at = -1
                self.standin.holding.set()
                self.standin.release.wait(30)
            send({**base, "choices": [{"index": 0, "delta": {"content": piece}, "finish_reason": None}]})
            sent += len(piece)
            if self.standin.chunk_seconds:
                time.sleep(self.standin.chunk_seconds)
            if garbled:
                self.wfile.write(b"data: {not json at all\n\n")
                self.wfile.flush()
                return
            if xff:  # a byte that is not UTF-8, inside an event line
                self.wfile.write(b'data: {"choices": [{"index": 0, "delta": {"content": "\xff"}}]}\n\n')
                self.wfile.flush()
                return
        if cut:
            return  # the connection closes with no finish_reason and no [DONE]
        with self.standin.lock:
            finish = self.standin.finishes.popleft() if self.standin.finishes else "stop"
        send({**base, "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]})
        if (body.get("stream_options") or {}).get("include_usage") and self.standin.usage:
            usage = {"prompt_tokens": prompt, "completion_tokens": _tokens(text), "total_tokens": prompt + _tokens(text)}
            if self.standin.slot_dir is not None:  # what the slot held of this prompt, as OpenAI says it
                usage["prompt_tokens_details"] = {"cached_tokens": min(self.standin.restored, prompt - 1)}
                self.standin.restored, self.standin.slot_tokens = 0, prompt
            send({**base, "choices": [], "usage": usage})
        self.wfile.write(b"data: [DONE]\n\n")

    def _embeddings(self, body: dict) -> None:
        inputs = body.get("input", [])
        inputs = [inputs] if isinstance(inputs, str) else inputs
        data = []
        for i, text in enumerate(inputs):
            vector = [0.0] * 64
            for word in re.findall(r"\w+", str(text).lower()):
                slot = int(hashlib.md5(word.encode()).hexdigest(), 16) % 64
                vector[slot] += 1.0
            data.append({"object": "embedding", "index": i, "embedding": vector})
        self._json(200, {"object": "list", "data": data, "model": body.get("model", "standin"), "usage": {"prompt_tokens": 1, "total_tokens": 1}})


if __name__ == "__main__":  # run by hand: python tests/standin.py
    with StandIn() as server:
        print(server.url, flush=True)
        threading.Event().wait()
