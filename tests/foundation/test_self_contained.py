"""The repository stands alone: nothing reads the folder beside it (the project's shared documents); the specs
live in docs/spec/."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
NAME = "sha" + "red"  # the folder beside the repository, built so this file never holds the text it looks for
BESIDE = ".." + "/" + NAME

# A path into the folder beside the repository, written as text or built with pathlib.
OUTSIDE = re.compile(
    r"\.\./"
    + NAME
    + r"""\b|parents?(\[\d+\])?\s*/\s*["']"""
    + NAME
    + r"""["']|parent\s*/\s*["']"""
    + NAME
    + r"""["']"""
)
SCANNED = {".py", ".sh", ".cfg", ".toml", ".ini", ".kv", ".json", ".yml", ".yaml"}


def _tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=REPO, capture_output=True, check=True).stdout
    names = [n for n in out.decode().split("\0") if n]
    return [REPO / n for n in names if Path(n).suffix in SCANNED or n in ("Makefile", ".ci/run")]


def test_no_code_or_test_reads_outside_the_repository() -> None:
    hits = []
    for path in _tracked_files():
        if path == Path(__file__).resolve() or not path.is_file():
            continue
        for n, line in enumerate(path.read_text(encoding="utf-8", errors="replace").splitlines(), 1):
            if OUTSIDE.search(line):
                hits.append(f"{path.relative_to(REPO)}:{n}: {line.strip()}")
    assert not hits, "reads outside the repository (copy the document into docs/spec/):\n" + "\n".join(hits)


def test_the_pattern_catches_each_way_of_writing_it() -> None:
    for line in (
        f'open("{BESIDE}/platform/x.wsdl")',
        f'Path(__file__).parents[3] / "{NAME}"',
        f"REPO.parent / '{NAME}'",
    ):
        assert OUTSIDE.search(line), line
    assert not OUTSIDE.search("kiosks on a shared database")


def test_every_spec_document_is_in_the_repository() -> None:
    spec = REPO / "docs" / "spec"
    index = (spec / "README.md").read_text(encoding="utf-8")
    for rel in (
        "platform/kiosk-platform.wsdl",
        "platform/kiosk-platform.md",
        "hardware/lockboards.md",
        "hardware/id-readers.md",
    ):
        assert (spec / rel).is_file(), rel
        assert f"`{rel}`" in index, f"{rel} is not listed with its version in docs/spec/README.md"
