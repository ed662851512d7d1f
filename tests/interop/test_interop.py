"""One index file, every language: the proof of the project's promise.

An index built from C is queried from C, C++, Go, Java, Ruby and Python, as ann's own file, as
the header-less Annoy file and as ann's file with a graph section; every language must print
byte-identical answers (ids, and
distances as float32 bit patterns). Then each language builds the same index: the files must be
byte-identical to C's, and every language reads every other's file with identical answers.

Each language's program follows the protocol in bindings/README.md. They find libann through
ANN_LIB, which this test sets to the freshly built library.
"""

from __future__ import annotations

import itertools
import os
import random
import shutil
import struct
import subprocess
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Dict, List

import pytest

ROOT = Path(__file__).resolve().parents[2]
METRICS = ["angular", "euclidean", "manhattan", "dot", "hamming"]
# ANN_INTEROP_LANGUAGES=c,cpp,python narrows the test while working on one binding; CI runs all.
LANGUAGES = os.environ.get("ANN_INTEROP_LANGUAGES", "c,cpp,go,java,ruby,python").split(",")
DIM = {"hamming": 72}  # bits: more than one 64-bit word
N_ITEMS, N_QUERIES, N, N_TREES, SEED = 400, 25, 10, 8, 12345


def library() -> Path:
    explicit = os.environ.get("ANN_LIB")
    path = Path(explicit) if explicit else ROOT / "target" / "release" / "libann.so"
    assert path.is_file(), f"{path} is missing: run `cargo build --release` first"
    return path.resolve()


@pytest.fixture(scope="session")
def programs(tmp_path_factory) -> Dict[str, List[str]]:
    """The command that runs each language's program; C and C++ are compiled here."""
    lib = library()
    work = tmp_path_factory.mktemp("programs")
    (work / "libann.so.1").symlink_to(lib)  # the SONAME the compiled programs ask the loader for
    commands = {}
    for lang, compiler, source, std in [("c", "cc", "interop.c", "-std=c99"), ("cpp", "c++", "interop.cpp", "-std=c++17")]:
        exe = work / f"interop-{lang}"
        subprocess.run(
            [compiler, std, "-Wall", "-Wextra", "-Werror", "-pedantic", f"-I{ROOT / 'include'}",
             str(Path(__file__).parent / source), str(lib), f"-Wl,-rpath,{work}", "-o", str(exe)],
            check=True,
        )
        commands[lang] = [str(exe)]
    for lang in set(LANGUAGES) - {"c", "cpp"}:
        script = ROOT / "bindings" / lang / "interop"
        assert os.access(script, os.X_OK), f"{script} is missing or not executable"
        commands[lang] = [str(script)]
    os.environ["ANN_LIB"] = str(lib)
    return commands


def run(command: List[str], *args: object) -> str:
    result = subprocess.run(command + [str(a) for a in args], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, f"{' '.join(command)} {args} failed:\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="session")
def data(tmp_path_factory) -> Dict[str, Dict[str, Path]]:
    """Per metric: raw float32 vectors and queries (0/1 values for hamming), from a fixed seed."""
    work = tmp_path_factory.mktemp("data")
    rng = random.Random(2024)
    files = {}
    for metric in METRICS:
        dim = DIM.get(metric, 24)

        def row() -> List[float]:
            if metric == "hamming":
                return [float(rng.random() < 0.5) for _ in range(dim)]
            return [rng.gauss(0.0, 1.0) * (1.0 + 2.0 * rng.random() if metric == "dot" else 1.0) for _ in range(dim)]

        files[metric] = {}
        for name, count in (("vectors", N_ITEMS), ("queries", N_QUERIES)):
            path = work / f"{metric}-{name}.f32"
            path.write_bytes(b"".join(struct.pack(f"<{dim}f", *row()) for _ in range(count)))
            files[metric][name] = path
    return files


def build(programs, data, tmp_path: Path, lang: str, metric: str) -> Dict[str, Path]:
    """The three files a `build` writes: ann's (forest), Annoy's, and ann's with a graph."""
    out = {kind: tmp_path / f"{lang}-{metric}.{kind}" for kind in ("native", "annoy", "graph")}
    run(programs[lang], "build", metric, DIM.get(metric, 24), data[metric]["vectors"], N_TREES, SEED,
        out["native"], out["annoy"], out["graph"])
    return out


def query(programs, data, lang: str, kind: str, path: Path, metric: str) -> str:
    loader = "annoy" if kind == "annoy" else "native"  # a graph is a section of ann's own file
    return run(programs[lang], "query", loader, path, metric, DIM.get(metric, 24), data[metric]["queries"], N, -1)


def answers(programs, data, readers, files, metric) -> Dict[tuple, str]:
    """Every reader's output for every file, two processes at a time."""
    jobs = list(itertools.product(readers, files.items()))
    with ThreadPoolExecutor(max_workers=2) as pool:
        outputs = pool.map(lambda job: query(programs, data, job[0], job[1][0], job[1][1], metric), jobs)
    return {(reader, kind): out for (reader, (kind, _)), out in zip(jobs, outputs)}


@pytest.mark.parametrize("metric", METRICS)
def test_an_index_built_from_c_answers_identically_in_every_language(programs, data, tmp_path, metric):
    files = build(programs, data, tmp_path, "c", metric)
    outputs = answers(programs, data, LANGUAGES, files, metric)
    for kind in files:
        expected = outputs[("c", kind)]
        lines = expected.splitlines()
        assert lines[0] == f"n_items {N_ITEMS} n_trees {N_TREES} dim {DIM.get(metric, 24)} metric {metric}"
        assert len(lines) == 1 + N_QUERIES + 5 + 5 and all(line.count(":") > N for line in lines[1:31])
        for lang in LANGUAGES:
            assert outputs[(lang, kind)] == expected, f"{lang} reads the {kind} file differently from C"
    # The header-less file has Annoy's item count and the same neighbours.
    assert outputs[("c", "native")].splitlines()[1:] == outputs[("c", "annoy")].splitlines()[1:]
    # The graph file answers Annoy's calls (same search_k) at least as well as the forest alone.
    forest, graph = (total_distance(outputs[("c", kind)]) for kind in ("native", "graph"))
    assert (graph >= forest) if metric == "dot" else (graph <= forest), (
        f"the graph's answers are worse than the forest's: total distance {graph} against {forest}"
    )


def total_distance(output: str) -> float:
    """The sum of the distances of every neighbour on the `q` and `i` lines of an output."""
    lines = [line for line in output.splitlines() if line[0] in "qi"]
    hits = [hit.split(":")[1] for line in lines for hit in line.split()[1:]]
    return sum(struct.unpack("<f", bytes.fromhex(h)[::-1])[0] for h in hits)


@pytest.mark.parametrize("builder", [lang for lang in LANGUAGES if lang != "c"])
def test_every_language_builds_the_same_file_and_every_other_reads_it(programs, data, tmp_path, builder):
    for metric in METRICS:
        (tmp_path / "c").mkdir(exist_ok=True)
        reference = build(programs, data, tmp_path / "c", "c", metric)
        files = build(programs, data, tmp_path, builder, metric)
        for kind in files:
            assert files[kind].read_bytes() == reference[kind].read_bytes(), (
                f"{builder}'s {metric} {kind} file differs from C's"
            )
        outputs = answers(programs, data, LANGUAGES, files, metric)
        for kind, path in reference.items():
            expected = query(programs, data, "c", kind, path, metric)
            for reader in LANGUAGES:
                assert outputs[(reader, kind)] == expected, f"{reader} reads {builder}'s {metric} {kind} file differently"
