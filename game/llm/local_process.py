"""The game's side of the local model's child process: start it, watch it, end it.

See `llama_child.py` for the child. Everything here is blocking and quick except
`start` (loading llama.cpp and the model: a second or two for the demo model), which the
backend runs in a thread.
"""
from __future__ import annotations

import json
import os
import queue
import signal
import subprocess
import sys
import threading
from pathlib import Path

from game.core.calls import ModelError
from game.core.paths import state_dir
from game.llm.engines import COMPILED, INSTALL, PREBUILT, SOURCE

START_TIMEOUT = 180.0  # a large GGUF on a slow disk can take a while to map
# An illegal instruction: the prebuilt is compiled for AVX2, FMA and F16C; a compiled llama.cpp
# for the CPU it was built on, which a VM may claim to be more than it is.
REBUILD = {PREBUILT: f"this CPU lacks an instruction the prebuilt llama.cpp needs: {SOURCE}",
           COMPILED: ("llama.cpp was built for another CPU: reinstall the [local-source] extra with the portable "
                      "build in the README ('Where the prebuilt cannot run'), then try again")}
UNKNOWN_BUILD = "llama.cpp does not fit this CPU: see the README ('Where the prebuilt cannot run')"


def crashes(engine: str | None) -> dict:
    """What a signal that ended the child means, and what the player can do about it."""
    rebuild = REBUILD.get(engine or "", UNKNOWN_BUILD)
    return {
        signal.SIGILL: ("crashed (illegal CPU instruction)", rebuild),
        signal.SIGSEGV: ("crashed (memory fault)", "try again; if it happens again, try another GGUF file"),
        signal.SIGBUS: ("crashed (bus error)", "check that the model file is complete, then try again"),
        signal.SIGABRT: ("crashed (aborted)", "try again; if it happens again, try another GGUF file"),
        signal.SIGFPE: ("crashed (arithmetic fault)", f"try again; if it happens again, {rebuild}"),
        signal.SIGKILL: ("was killed (perhaps out of memory)", "close other programs or use a smaller model, then try again"),
    }


def describe_exit(code: int, log: Path | None = None, when: str = "", engine: str | None = None) -> str:
    """One line for a child that ended with `code` (negative: the signal that killed it);
    `when` says what it was doing ("while loading"); `engine` which llama.cpp it ran."""
    when = f" {when}" if when else ""
    if code < 0:
        try:
            sig = signal.Signals(-code)
        except ValueError:
            return f"the local model crashed (signal {-code}){when}; try again"
        what, todo = crashes(engine).get(sig, (f"crashed ({sig.name})", "try again"))
        return f"the local model {what}{when}; {todo}"
    where = f"; its log is {log}" if log else ""
    return f"the local model stopped (exit status {code}){when}{where}; try again"


class LocalModel:
    """One child process running llama.cpp with one model, on a loopback port."""

    def __init__(self, path: Path, *, n_ctx: int, threads: int, name: str = "local", verbose: bool = False,
                 log: Path | None = None, python: str | None = None, engine: str = "auto",
                 options: tuple[str, ...] = ()) -> None:
        self.path = Path(path)
        self.python = python  # another interpreter's llama.cpp (benchmarks compare engines and builds)
        self.engine = engine  # xllamacpp, llama-cpp-python, or auto: the child's own choice
        self.options = options  # more of the child's options (tests: "--no-key", "--cache-ram", "0")
        self.n_ctx = n_ctx
        self.threads = threads
        self.name = name
        self.verbose = verbose
        self.log = log if log is not None else state_dir() / "local-model.log"
        self.port = 0
        self.system = ""  # llama.cpp's CPU features, as the child reported them
        self.version = ""
        self.key = ""  # the API key the child made up; it came down the pipe, and goes nowhere else
        self.process: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/v1"

    @property
    def pid(self) -> int | None:
        return self.process.pid if self.process is not None else None

    def start(self, timeout: float = START_TIMEOUT) -> None:
        """Start the child and wait until it serves; one-line ModelError if it cannot."""
        command = [self.python or sys.executable, "-m", "game.llm.llama_child", str(self.path), "--n-ctx", str(self.n_ctx),
                   "--threads", str(self.threads), "--name", self.name, "--engine", self.engine, *self.options]
        command += ["--verbose"] if self.verbose else []
        try:
            self.log.parent.mkdir(parents=True, exist_ok=True)
            err = open(self.log, "wb")
        except OSError:
            err = subprocess.DEVNULL  # an unwritable state folder must not stop the story
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        env.pop("OPENAI_API_KEY", None)  # the child has no use for the player's key
        # The child imports this package from where the game's own copy is, whatever the cwd.
        home = str(Path(__file__).resolve().parents[2])
        env["PYTHONPATH"] = os.pathsep.join([home, *filter(None, [env.get("PYTHONPATH")])])
        try:
            self.process = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=err, env=env)
        except OSError as error:
            raise ModelError(f"cannot start the local model ({error.strerror or error})") from None
        finally:
            if err is not subprocess.DEVNULL:
                err.close()
        message = self._first_line(timeout)
        if message is None:
            try:
                code = self.process.wait(2.0)  # a child that closed its stdout as it died: reaped in a moment
            except subprocess.TimeoutExpired:
                code = None
            self.stop()
            if code is None:
                raise ModelError(f"the local model did not start within {timeout:g} s; its log is {self.log}")
            raise ModelError(describe_exit(code, self.log, when="while loading", engine=self._engine_known()))
        if "error" in message:
            self.stop()
            raise ModelError(f"{self.path}: llama.cpp could not load this model ({message['error']})")
        self.port = int(message["port"])
        self.key = str(message.get("key", ""))
        self.engine = str(message.get("engine", self.engine))
        self.system = str(message.get("system", ""))
        self.version = str(message.get("version", ""))

    def _engine_known(self) -> str | None:
        return None if self.engine == "auto" else self.engine

    def _first_line(self, timeout: float) -> dict | None:
        """The child's one line of JSON, or None if it ended (or said nothing) first."""
        lines: queue.Queue = queue.Queue()
        stdout = self.process.stdout

        def read() -> None:
            lines.put(stdout.readline())

        threading.Thread(target=read, name="local-model-start", daemon=True).start()
        try:
            raw = lines.get(timeout=timeout)
        except queue.Empty:
            return None
        stdout.close()
        try:
            message = json.loads(raw.decode("utf-8", "replace"))
        except ValueError:
            return None
        return message if isinstance(message, dict) else None

    def gone(self, wait: float = 0.0) -> str | None:
        """None while the child runs; otherwise one line saying how it ended. `wait` gives a
        child whose connection just dropped a moment to be reaped."""
        if self.process is None:
            return "the local model is not running"
        try:
            code = self.process.wait(wait) if wait else self.process.poll()
        except subprocess.TimeoutExpired:
            return None
        return None if code is None else describe_exit(code, self.log, engine=self._engine_known())

    def stop(self) -> None:
        """End the child: closing its stdin ends it at once; a kill if it does not go."""
        process, self.process = self.process, None
        if process is None:
            return
        try:
            if process.stdin:
                process.stdin.close()
        except OSError:
            pass
        try:
            process.wait(3.0)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
