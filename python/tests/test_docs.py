"""Every ```python block of the documentation runs: the README and every page of docs/, each page's blocks in
order in one namespace (as a reader would run them), in a scratch folder where ``tests/`` is the
repository's (so files the blocks write stay out of the repository)."""

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["README.md"] + sorted(f"docs/{p.name}" for p in (ROOT / "docs").glob("*.md"))


def blocks(page):
    text = (ROOT / page).read_text()
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


def test_the_pages_with_python_blocks():
    with_blocks = [p for p in PAGES if blocks(p)]
    # every chapter from 01 on shows its key step in Python too
    chapters = [p for p in PAGES if re.match(r"docs/0\d-", p)]
    assert len(chapters) >= 8 and all(blocks(p) for p in chapters), chapters
    assert {"README.md", "docs/pytorch.md", "docs/python.md"} <= set(with_blocks)


@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p)])
def test_python_blocks_run(page, capsys, tmp_path):
    (tmp_path / "tests").symlink_to(ROOT / "tests")
    namespace = {"__name__": "__docs__"}
    cwd = os.getcwd()
    os.chdir(tmp_path)
    try:
        for i, code in enumerate(blocks(page)):
            try:
                exec(compile(code, f"{page} python block {i + 1}", "exec"), namespace)
            except Exception as e:  # noqa: BLE001 - named by page and block
                raise AssertionError(f"{page}, python block {i + 1} failed: {e!r}\n{code}") from e
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "False" not in out, f"{page} printed False:\n{out}"
