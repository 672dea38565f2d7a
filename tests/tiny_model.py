"""A tiny model for the tests of the local engine's machinery, made at test time.

The tests of the child process, the saved KV cache, kills and crashes need a real llama.cpp
serving a real GGUF file, but not a model that writes well: each step of the bundled 135M demo
model costs 6-9 s of CPU here, and those tests told dozens of them (bench/tests.md). This file
is a llama model of two layers 64 wide, with the demo model's own tokenizer and chat template
copied from its GGUF, so llama.cpp loads, tokenizes, caches, saves and restores it exactly as
it does the demo model, at a few milliseconds a token.

Its weights are made, not trained: every token's embedding carries one constant feature, and
the output layer reads that feature as a fixed score for a few dozen plain words, full stops,
commas, a closing quote and the end of the turn (and a full stop makes the quote likelier next).
So it answers with a jumble of those words in sentences, and the game's guards, grammar and
fallbacks meet it as they would any weak model. The test of what the demo model itself writes
(`test_local.py`'s `write`, two steps end to end) still plays the bundled model.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np

WIDTH, LAYERS, HEADS, FFN = 64, 2, 2, 128
# The words it says (each the tokenizer's one token, spelt with a leading space, Ġ), and an
# option's first words (without one).
WORDS = ("you walk the forest water stone see hear well old light path trees cold quiet find a door "
         "wind deep small bird river touch moss look dark green slowly then and into under over").split()
STARTS = ("You", "Walk", "Look", "Find", "Follow", "Listen", "Go", "Ask", "Take", "Open")


def _scores(tokens: list[str]) -> dict[int, float]:
    """Each token's score (a logit): every word 9, the rest of the vocabulary about 0. The game
    asks for notes at a lower temperature than prose, which sharpens these differences: the
    full stop and the closing quote are set so that both prose and notes get sentences and
    strings of a few words."""
    index = {token: number for number, token in enumerate(tokens)}
    # Whitespace alone scores below the rest: where JSON allows spaces or the next brace, llama.cpp's
    # grammar would otherwise take up to twenty spaces as often as the brace.
    scores = {number: -4.0 for number, token in enumerate(tokens) if token and set(token) <= set("ĠĊĉ")}
    scores.update({index["Ġ" + word]: 9.0 for word in WORDS})
    scores.update({index[word]: 7.8 for word in STARTS})  # for an option's first word
    scores[index["."]] = 10.0
    scores[index[","]] = 8.5
    scores[index['"']] = 9.8
    scores[index["<|im_end|>"]] = 4.0  # the end of a turn, seldom: prose runs to its length
    return scores


def build(source: Path, path: Path, seed: int = 7) -> Path:
    """Write the tiny model to `path`, with the tokenizer and chat template of GGUF `source`."""
    import gguf  # the test extra: llama.cpp's own reader and writer of GGUF files

    reader = gguf.GGUFReader(source)

    def field(name: str):
        return reader.fields[name].contents()

    tokens = field("tokenizer.ggml.tokens")
    vocab = len(tokens)
    rng = np.random.default_rng(seed)

    def noise(*shape: int) -> np.ndarray:
        return (rng.standard_normal(shape) * 0.02).astype(np.float32)

    writer = gguf.GGUFWriter(path, "llama")
    writer.add_name("recurrent test model")
    writer.add_block_count(LAYERS)
    writer.add_context_length(8192)
    writer.add_embedding_length(WIDTH)
    writer.add_feed_forward_length(FFN)
    writer.add_head_count(HEADS)
    writer.add_head_count_kv(HEADS)
    writer.add_rope_dimension_count(WIDTH // HEADS)
    writer.add_rope_freq_base(10000.0)
    writer.add_layer_norm_rms_eps(1e-5)
    writer.add_vocab_size(vocab)
    writer.add_file_type(gguf.LlamaFileType.MOSTLY_F16)
    writer.add_tokenizer_model(field("tokenizer.ggml.model"))
    writer.add_tokenizer_pre(field("tokenizer.ggml.pre"))
    writer.add_token_list(tokens)
    writer.add_token_types(field("tokenizer.ggml.token_type"))
    writer.add_token_merges(field("tokenizer.ggml.merges"))
    for name, add in (("bos", writer.add_bos_token_id), ("eos", writer.add_eos_token_id),
                      ("unknown", writer.add_unk_token_id), ("padding", writer.add_pad_token_id)):
        add(field(f"tokenizer.ggml.{name}_token_id"))
    writer.add_add_bos_token(field("tokenizer.ggml.add_bos_token"))
    writer.add_add_space_prefix(field("tokenizer.ggml.add_space_prefix"))
    writer.add_chat_template(field("tokenizer.chat_template"))

    # Feature 0 of every embedding is 1 and the layers add little to it, so after the last norm it
    # is about sqrt(WIDTH): the output layer's column 0 turns it into each token's score.
    embed = noise(vocab, WIDTH)
    embed[:, 0] = 1.0
    output = noise(vocab, WIDTH)
    output[:, 0] = 0.0
    for token, score in _scores(tokens).items():
        output[token, 0] = score / np.sqrt(WIDTH)
    # One pair of tokens follows the other: after a full stop, the closing quote scores a point
    # above the rest (feature 1 of the stop's embedding, read by the quote's row). Without it the
    # model would say one token forever when asked at temperature 0, where nothing is sampled and
    # no penalty applies, and never close a string.
    stop, quote = tokens.index("."), tokens.index('"')
    embed[stop, 1] = 0.3
    output[quote, 1] = 0.45
    writer.add_tensor("token_embd.weight", embed.astype(np.float16))
    writer.add_tensor("output_norm.weight", np.ones(WIDTH, np.float32))
    writer.add_tensor("output.weight", output.astype(np.float16))
    for layer in range(LAYERS):
        for name, shape in (("attn_q", (WIDTH, WIDTH)), ("attn_k", (WIDTH, WIDTH)), ("attn_v", (WIDTH, WIDTH)),
                            ("attn_output", (WIDTH, WIDTH)), ("ffn_gate", (FFN, WIDTH)), ("ffn_up", (FFN, WIDTH)),
                            ("ffn_down", (WIDTH, FFN))):
            writer.add_tensor(f"blk.{layer}.{name}.weight", noise(*shape))
        writer.add_tensor(f"blk.{layer}.attn_norm.weight", np.ones(WIDTH, np.float32))
        writer.add_tensor(f"blk.{layer}.ffn_norm.weight", np.ones(WIDTH, np.float32))
    writer.write_header_to_file()
    writer.write_kv_data_to_file()
    writer.write_tensors_to_file()
    writer.close()
    return path
