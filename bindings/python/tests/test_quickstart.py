"""The README's examples are examples/quickstart.py, examples/search.py and examples/live.py,
verbatim, and they run."""

import ast
import os
import re
import subprocess
import sys
from pathlib import Path

import ann

HERE = Path(__file__).resolve().parents[1]
EXAMPLE = HERE / "examples" / "quickstart.py"
SEARCH_EXAMPLE = HERE / "examples" / "search.py"
LIVE_EXAMPLE = HERE / "examples" / "live.py"


def readme_block(heading: str) -> str:
    readme = (HERE / "README.md").read_text()
    section = readme.split(f"## {heading}\n", 1)[1]
    block = re.search(r"```python\n(.*?)```", section, flags=re.DOTALL)
    assert block is not None, f"README.md has no python block under ## {heading}"
    return block.group(1)


def run_example(path: Path, cwd: Path) -> str:
    env = {**os.environ, "ANN_LIB": str(ann.library_path)}
    package_root = str(Path(ann.__file__).resolve().parents[1])  # the ann under test, wherever it is
    env["PYTHONPATH"] = os.pathsep.join(p for p in (package_root, env.get("PYTHONPATH")) if p)
    result = subprocess.run(
        [sys.executable, str(path)], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr
    return result.stdout


def test_the_readme_shows_the_example_files_verbatim():
    assert readme_block("Quickstart") == EXAMPLE.read_text()
    assert readme_block("Keys, filtered search and shards") == SEARCH_EXAMPLE.read_text()
    assert readme_block("Live indexes") == LIVE_EXAMPLE.read_text()


def test_the_live_example_runs(tmp_path):
    assert run_example(LIVE_EXAMPLE, tmp_path).splitlines() == [
        "[1, 2]",
        "True False",
        "[1, 3]",
        "2 True 3",
        "[1, 3, 4]",
    ]
    assert (tmp_path / "vectors.live" / "MANIFEST").is_file()
    assert ann.file_info(tmp_path / "vectors.ann").kind == "native"


def test_the_search_example_runs(tmp_path):
    assert run_example(SEARCH_EXAMPLE, tmp_path).splitlines() == [
        "1000 20",
        "['doc-1', 'doc-999']",
        "['doc-77', 'doc-7', 'doc-147']",
        "(2, 3)",
    ]


def test_the_quickstart_runs(tmp_path):
    first, last = run_example(EXAMPLE, tmp_path).splitlines()
    assert first.startswith("[0, ") and len(ast.literal_eval(first)) == 10  # item 0 is its own nearest
    assert last == "([0, 1], [0.0, 2.0])"
    assert (tmp_path / "vectors.ann").is_file()
