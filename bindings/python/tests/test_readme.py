"""The Python examples in the main README.md run as written, in order."""

import re
from pathlib import Path

README = Path(__file__).resolve().parents[3] / "README.md"


def python_blocks():
    return re.findall(r"```python\n(.*?)```", README.read_text(), flags=re.S)


def test_the_readme_has_examples():
    assert len(python_blocks()) >= 3


def test_the_readme_examples_run(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)  # the examples write files in the working directory
    namespace = {"__name__": "__readme__"}
    for number, block in enumerate(python_blocks(), 1):
        exec(compile(block, f"{README.name} block {number}", "exec"), namespace)
    assert capsys.readouterr().out.splitlines()[-1] == "annoy native"
