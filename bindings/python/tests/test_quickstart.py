"""The README's quickstart is examples/quickstart.py, verbatim, and it runs."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import ann

HERE = Path(__file__).resolve().parents[1]
EXAMPLE = HERE / "examples" / "quickstart.py"


def test_the_readme_shows_the_quickstart_file_verbatim():
    readme = (HERE / "README.md").read_text()
    section = readme.split("## Quickstart", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert block is not None, "README.md has no python block under ## Quickstart"
    assert block.group(1) == EXAMPLE.read_text()


def test_the_quickstart_runs(tmp_path):
    env = {**os.environ, "ANN_LIB": str(ann.library_path)}
    package_root = str(Path(ann.__file__).resolve().parents[1])  # the ann under test, wherever it is
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    result = subprocess.run(
        [sys.executable, str(EXAMPLE)], cwd=tmp_path, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    first, last = result.stdout.splitlines()
    assert first.startswith("[0, ") and len(ast.literal_eval(first)) == 10  # item 0 is its own nearest
    assert last == "([0, 1], [0.0, 2.0])"
    assert (tmp_path / "vectors.ann").is_file()
