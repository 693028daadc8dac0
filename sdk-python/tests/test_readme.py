"""The README's quick start, exactly as written, against the installed wheel.

The first ```python block after "## Quick start" runs unchanged in a fresh
interpreter (this one's, so the installed `sigil`) from an empty directory, and
its output must be the ```text block right after it.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```[ \t]*$", re.MULTILINE | re.DOTALL)


def readme_block(markdown: str, heading: str, lang: str) -> tuple[str, str | None]:
    """The first ```<lang> block after `heading`, and the ```text block after it, if any."""
    at = re.search(rf"^{re.escape(heading)}$", markdown, re.MULTILINE)
    assert at is not None, f'README has no "{heading}" heading'
    blocks = [(m.group(1), m.group(2)) for m in FENCE.finditer(markdown, at.end())]
    langs = [b[0] for b in blocks]
    assert lang in langs, f'no ```{lang} block after "{heading}"'
    i = langs.index(lang)
    output = blocks[i + 1][1] if i + 1 < len(blocks) and blocks[i + 1][0] == "text" else None
    return blocks[i][1], output


def test_readme_quick_start_runs_as_written(tmp_path: Path) -> None:
    code, output = readme_block(README.read_text(encoding="utf-8"), "## Quick start", "python")
    assert "import sigil" in code
    script = tmp_path / "quickstart.py"
    script.write_text(code, encoding="utf-8")
    result = subprocess.run(
        [sys.executable, str(script)],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    context = f"\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    assert result.returncode == 0, f"the README code exited with {result.returncode}{context}"
    assert output is not None, "the README shows no ```text output block after the code"
    assert result.stdout == output, f"output differs from the README{context}"
    assert re.fullmatch(r"S256 True\nverified .*\nrejected invalid_signature\n", result.stdout)
