"""The README's examples, exactly as written, against the installed wheel.

The first ```python block after each heading runs unchanged in a fresh
interpreter (this one's, so the installed `sigil`) from an empty directory:
- "## Quick start" (webhooks, offline) and "## Backend quick start" (a Client
  against the session's test server, through SIGIL_ISSUER and SIGIL_API_KEY) as
  scripts, whose output must be the ```text block right after them;
- "## Testing your app with sigil.testing" as a test file under pytest, with
  the plugin as installed (it starts its own server from $SIGIL_SERVER).
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

from sigil.testing import SigilTestServer

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


def run(args: list[str], cwd: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        args, cwd=cwd, env=env, capture_output=True, text=True, timeout=120, check=False
    )


def test_readme_backend_quick_start_runs_as_written(
    tmp_path: Path, sigil_server: SigilTestServer
) -> None:
    heading = "## Backend quick start"
    code, output = readme_block(README.read_text(encoding="utf-8"), heading, "python")
    script = tmp_path / "backend.py"
    script.write_text(code, encoding="utf-8")
    env = {
        **os.environ,
        "SIGIL_ISSUER": sigil_server.issuer,
        "SIGIL_API_KEY": sigil_server.api_keys[0],
    }
    result = run([sys.executable, str(script)], tmp_path, env)
    context = f"\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    assert result.returncode == 0, f"the README code exited with {result.returncode}{context}"
    assert output is not None, "the README shows no ```text output block after the code"
    assert result.stdout == output, f"output differs from the README{context}"


def test_readme_testing_example_passes_under_pytest(tmp_path: Path) -> None:
    heading = "## Testing your app with sigil.testing"
    code, _ = readme_block(README.read_text(encoding="utf-8"), heading, "python")
    assert "sigil_server" in code
    (tmp_path / "tests").mkdir()
    (tmp_path / "tests" / "test_with_sigil.py").write_text(code, encoding="utf-8")
    # A user's project: no conftest, the plugin comes from the installed package.
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "tests"]
    result = run(args, tmp_path, dict(os.environ))
    context = f"\n--- stdout ---\n{result.stdout}\n--- stderr ---\n{result.stderr}"
    assert result.returncode == 0, f"pytest on the README example failed{context}"
    assert re.search(r"^2 passed", result.stdout, re.MULTILINE), context
