"""Turns side_by_side's and graphs' JSON lines into the markdown tables and the recall/QPS plot.

    python3 bench/report.py results.jsonl [--markdown results.md] [--plot recall_qps.png]
        [--machine "text"]

QPS ratios compare libraries at equal recall: each curve (recall@10 against queries per
second over the search_k or ef sweep) is interpolated at recall 0.90, 0.95 and 0.99, linearly
in recall and logarithmically in QPS between the two sweep points around the target. A target
above a curve is reported as not reached. A forest curve that starts above a target is not
reported there either (a smaller search_k would be faster); a graph curve that starts above
it is reported at its first point, marked `*`: its narrowest beam (ef = n) already does better.
"""

from __future__ import annotations

import argparse
import itertools
import json
import math
import sys

TARGETS = (0.90, 0.95, 0.99)
LIBS = ("ann", "annoy")


def effort(point: dict) -> int:
    return point["search_k"] if "search_k" in point else point["ef"]


def qps_at(curve: list[dict], recall: float, floor: bool = False) -> float | None:
    """QPS at `recall` on a curve, or None when the sweep does not bracket it; with `floor`, a
    curve whose first point is already above `recall` gives that point's QPS."""
    points = sorted(curve, key=effort)
    for lo, hi in itertools.pairwise(points):
        if lo["recall"] < recall <= hi["recall"]:
            t = (recall - lo["recall"]) / (hi["recall"] - lo["recall"])
            return math.exp(math.log(lo["qps"]) + t * (math.log(hi["qps"]) - math.log(lo["qps"])))
    if floor and points and points[0]["recall"] >= recall:
        return points[0]["qps"]
    return None


def at_floor(curve: list[dict], recall: float) -> str:
    points = sorted(curve, key=effort)
    return "*" if points and points[0]["recall"] >= recall else ""


def best_forest(rows: list[dict], lib: str, dataset: str, metric: str, recall: float) -> float | None:
    """The best QPS a library's forest reaches `recall` with, over the tree counts measured."""
    found = [
        qps_at(r[f"{lib}_curve"], recall) for r in rows if (r["dataset"], r["metric"]) == (dataset, metric)
    ]
    found = [q for q in found if q is not None]
    return max(found) if found else None


def fmt(x: float | None, digits: int = 2, suffix: str = "") -> str:
    return "n/a" if x is None else f"{x:.{digits}f}{suffix}"


def ratio(a: float | None, b: float | None) -> float | None:
    return a / b if a is not None and b else None


def graph_markdown(graphs: list[dict], forests: list[dict]) -> list[str]:
    out = [
        (
            "\n**Graph search: ann's graph against hnswlib 0.8** (M = 16, ef_construction = 200; `bench/graphs.cpp`), "
            "with the forests of the table above at their best tree count for reference. QPS with 1 thread at "
            "equal recall@10; `*`: the narrowest beam (ef = n) is already above that recall. Builds are the "
            "forest plus the graph for ann. Query RSS is what loading the file and answering every query at "
            "ef 64 adds to a fresh process, as mapped file pages + heap: ann maps its file (those pages are "
            "shared by every process that maps it), hnswlib copies its file into its heap.\n"
        )
    ]
    out += [
        "| dataset | library | "
        + " | ".join(f"QPS @{t:.2f}" for t in TARGETS)
        + " | build 1t / 2t s | file MB | load ms | query RSS MB, mapped + heap |",
        "|---|---|" + "---:|" * len(TARGETS) + "---:|---:|---:|---:|",
    ]
    for g in graphs:
        name = f"{g['dataset']} {g['metric']}"
        for lib, label in (("annoy", "Annoy, forest"), ("ann", "ann, forest")):
            cells = [fmt(best_forest(forests, lib, g["dataset"], g["metric"], t), 0) for t in TARGETS]
            out.append(f"| {name} | {label} | " + " | ".join(cells) + " | | | | |")
        for lib, label in (("ann_graph", f"ann, {g['trees']} trees + graph"), ("hnswlib", "hnswlib")):
            cells = [
                fmt(qps_at(g[f"{lib}_curve"], t, floor=True), 0) + at_floor(g[f"{lib}_curve"], t)
                for t in TARGETS
            ]
            out.append(
                f"| {name} | {label} | "
                + " | ".join(cells)
                + f" | {g[lib + '_build_s_1t']:.1f} / {g[lib + '_build_s_2t']:.1f} | {g[lib + '_file_mb']:.0f} "
                f"| {g[lib + '_load_ms']:.2f} | {rss(g, lib)} |"
            )
        cells = [
            f"**{fmt(ratio(qps_at(g['ann_graph_curve'], t, True), qps_at(g['hnswlib_curve'], t, True)))}x**"
            for t in TARGETS
        ]
        a1, h1, a2, h2 = (
            g[k]
            for k in (
                "ann_graph_build_s_1t",
                "hnswlib_build_s_1t",
                "ann_graph_build_s_2t",
                "hnswlib_build_s_2t",
            )
        )
        out.append(
            f"| {name} | ratio ann graph / hnswlib | "
            + " | ".join(cells)
            + f" | **{a1 / h1:.2f}x / {a2 / h2:.2f}x** | **{g['ann_graph_file_mb'] / g['hnswlib_file_mb']:.2f}x** "
            f"| | mapped **{mapped(g, 'ann_graph') / g['ann_graph_file_mb']:.2f}x** its file |"
        )
    return out


def mapped(g: dict, lib: str) -> float:
    return g.get(f"{lib}_query_rss_file_mb", g[f"{lib}_query_rss_mb"])


def rss(g: dict, lib: str) -> str:
    if f"{lib}_query_rss_anon_mb" not in g:
        return f"{g[lib + '_query_rss_mb']:.0f}"
    return f"{g[lib + '_query_rss_file_mb']:.0f} + {g[lib + '_query_rss_anon_mb']:.1f}"


def markdown(all_rows: list[dict], machine: str) -> str:
    rows = [r for r in all_rows if r.get("kind") != "graph"]
    graphs = [r for r in all_rows if r.get("kind") == "graph"]
    out = []
    if machine:
        out.append(f"Measured on {machine}.\n")
    out.append(
        "**Queries per second at equal recall@10 (1 thread)**: ann's QPS / Annoy's, and each one's QPS.\n"
    )
    head = (
        "| dataset | metric | trees | "
        + " | ".join(f"ratio @{t:.2f} (ann / Annoy QPS)" for t in TARGETS)
        + " |"
    )
    out += [head, "|---|---|---:|" + "---:|" * len(TARGETS)]
    for r in rows:
        cells = []
        for t in TARGETS:
            a, b = qps_at(r["ann_curve"], t), qps_at(r["annoy_curve"], t)
            cells.append(f"**{fmt(ratio(a, b))}x** ({fmt(a, 0)} / {fmt(b, 0)})")
        out.append(f"| {r['dataset']} | {r['metric']} | {r['trees']} | " + " | ".join(cells) + " |")

    out.append(
        "\n**Build, files and memory.** Build seconds with 1 thread; the 2-thread speedup is "
        "1-thread time / 2-thread time. Build peak RSS is above the benchmark's own (which holds the vectors); query RSS is what a query pass at recall 0.90 adds to a process that maps the file.\n"
    )
    out += [
        (
            "| dataset | trees | build 1t ann / Annoy (ratio) | 2t speedup ann / Annoy | file MB ann / Annoy "
            "| load ms ann / Annoy | build peak RSS MB ann / Annoy | query RSS MB ann / Annoy "
            "| 2-thread QPS @0.90 ann / Annoy (ratio) |"
        ),
        "|---|---:|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        a1, b1 = r["ann_build_s_1t"], r["annoy_build_s_1t"]
        a2, b2 = r["ann_build_s_2t"], r["annoy_build_s_2t"]
        batch = ratio(r["ann_batch2_qps"], r["annoy_batch2_qps"])
        out.append(
            f"| {r['dataset']} {r['metric']} | {r['trees']} | {a1:.2f} / {b1:.2f} s (**{a1 / b1:.2f}x**) "
            f"| {a1 / a2:.2f}x / {b1 / b2:.2f}x | {r['ann_file_mb']:.1f} / {r['annoy_file_mb']:.1f} "
            f"| {r['ann_load_ms']:.3f} / {r['annoy_load_ms']:.3f} "
            f"| {r['ann_build_peak_rss_mb']:.0f} / {r['annoy_build_peak_rss_mb']:.0f} "
            f"| {r['ann_query_rss_mb']:.0f} / {r['annoy_query_rss_mb']:.0f} "
            f"| {r['ann_batch2_qps']:.0f} / {r['annoy_batch2_qps']:.0f} (**{fmt(batch)}x**) |"
        )
    curves = [r for r in rows if r.get("ann_filter_curve")]
    if curves:
        out.append(
            "\n**Filtered search** (ann only; `ann_search` with a random allow-list, 1 thread, at the "
            "search_k where unfiltered recall@10 first reaches 0.90). Recall is against the exact "
            "filtered answer; *complete* counts answers with exactly min(n, accepted) results.\n"
        )
        out += [
            "| dataset | trees | accepted items | search_k | QPS | recall@10 | complete |",
            "|---|---:|---:|---:|---:|---:|---:|",
        ]
        for r in curves:
            for p in r["ann_filter_curve"]:
                share = 100.0 * p["accepted"] / r["n_items"]
                out.append(
                    f"| {r['dataset']} {r['metric']} | {r['trees']} | {p['accepted']} ({share:.3g}%) "
                    f"| {p['search_k']} | {p['qps']:.0f} | {p['recall']:.4f} | {p['complete']}/{r['n_queries']} |"
                )
    if graphs:
        out += graph_markdown(graphs, rows)
    return "\n".join(out) + "\n"


def plot(all_rows: list[dict], path: str, machine: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    rows = [r for r in all_rows if r.get("kind") != "graph"]
    graphs = {(g["dataset"], g["metric"]): g for g in all_rows if g.get("kind") == "graph"}
    datasets = sorted(
        {(r["dataset"], r["metric"]) for r in all_rows},
        key=lambda d: next(x for x in all_rows if (x["dataset"], x["metric"]) == d)["_order"],
    )
    trees = sorted({r["trees"] for r in rows})
    columns = len(trees) + (1 if graphs else 0)
    fig, axes = plt.subplots(
        len(datasets), columns, figsize=(4.2 * columns, 3.4 * len(datasets)), squeeze=False
    )
    by_key: dict[tuple, dict] = {(r["dataset"], r["metric"], r["trees"]): r for r in rows}
    for i, (dataset, metric) in enumerate(datasets):
        for j in range(columns):
            ax = axes[i][j]
            if j < len(trees):
                r = by_key.get((dataset, metric, trees[j]))
                curves = [
                    (lib, r[f"{lib}_curve"] if r else None, style) for lib, style in zip(LIBS, ("o-", "s--"))
                ]
                title = f"{dataset} {metric}, {trees[j]} trees"
            else:
                g = graphs.get((dataset, metric))
                # For reference, the forests at the tree count nearest the graph's forest.
                nearest = min(trees, key=lambda t: abs(t - g["trees"])) if g and trees else None
                forest = by_key.get((dataset, metric, nearest))
                curves = [
                    (
                        f"ann ({g['trees']} trees + graph)" if g else "",
                        g["ann_graph_curve"] if g else None,
                        "o-",
                    ),
                    ("hnswlib (M 16, efc 200)", g["hnswlib_curve"] if g else None, "^-"),
                    (f"ann forest, {nearest} trees", forest["ann_curve"] if forest else None, "o:"),
                    (f"Annoy, {nearest} trees", forest["annoy_curve"] if forest else None, "s:"),
                ]
                title = f"{dataset} {metric}, graphs"
            curves = [c for c in curves if c[1]]
            if not curves:
                ax.set_visible(False)
                continue
            for label, curve, style in curves:
                pts = sorted(curve, key=effort)
                ax.plot([p["recall"] for p in pts], [p["qps"] for p in pts], style, label=label, markersize=3)
            ax.set_yscale("log")
            ax.set_xlim(left=max(0.5, min(p["recall"] for c in curves for p in c[1]) - 0.02), right=1.0)
            for target in TARGETS:
                ax.axvline(target, color="grey", linewidth=0.5, linestyle=":")
            ax.set_title(title, fontsize=9)
            ax.set_xlabel("recall@10", fontsize=8)
            ax.set_ylabel("queries/s (1 thread)", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(True, which="both", linewidth=0.3)
            ax.legend(fontsize=7)
    if machine:
        fig.suptitle(f"ann vs Annoy 1.17.3 and hnswlib 0.8 — {machine}", fontsize=10)
    fig.tight_layout()
    fig.savefig(path, dpi=110)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results")
    parser.add_argument("--markdown")
    parser.add_argument("--plot")
    parser.add_argument("--machine", default="")
    args = parser.parse_args()
    with open(args.results) as f:
        rows = [json.loads(line) for line in f if line.strip()]
    for i, r in enumerate(rows):
        r["_order"] = i
    text = markdown(rows, args.machine)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as f:
            f.write(text)
    if args.plot:
        plot(rows, args.plot, args.machine)
        print(f"plot: {args.plot}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
