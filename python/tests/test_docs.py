"""Every ```python block of the pages that show the Python API runs, in order, one namespace per page."""

import os
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["README.md", "docs/python.md", "docs/pytorch.md"]


def blocks(page):
    text = (ROOT / page).read_text()
    return re.findall(r"^```python\n(.*?)^```", text, flags=re.S | re.M)


@pytest.mark.parametrize("page", PAGES)
def test_python_blocks_run(page, capsys):
    found = blocks(page)
    assert found, f"{page} has no python block"
    namespace = {"__name__": "__docs__"}
    cwd = os.getcwd()
    os.chdir(ROOT)
    try:
        for i, code in enumerate(found):
            try:
                exec(compile(code, f"{page} block {i + 1}", "exec"), namespace)
            except Exception as e:  # noqa: BLE001 - named by page and block
                raise AssertionError(f"{page}, python block {i + 1} failed: {e!r}\n{code}") from e
    finally:
        os.chdir(cwd)
    out = capsys.readouterr().out
    assert "False" not in out, f"{page} printed False:\n{out}"
