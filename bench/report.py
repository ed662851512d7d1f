"""Turns side_by_side's JSON lines into the markdown table and the recall/QPS plot.

    python3 bench/report.py results.jsonl [--markdown results.md] [--plot recall_qps.png]
        [--machine "text"]

QPS ratios compare the two libraries at equal recall: each curve (recall@10 against queries
per second over the search_k sweep) is interpolated at recall 0.90, 0.95 and 0.99, linearly in
recall and logarithmically in QPS between the two sweep points around the target. A target
outside a curve is reported as not reached.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from typing import Dict, List, Optional

TARGETS = (0.90, 0.95, 0.99)
LIBS = ("ann", "annoy")


def qps_at(curve: List[dict], recall: float) -> Optional[float]:
    """QPS at `recall` on a curve, or None when the sweep does not bracket it."""
    points = sorted(curve, key=lambda p: p["search_k"])
    # The curve's best QPS at or above the target, from the points that bracket it.
    for lo, hi in zip(points, points[1:]):
        if lo["recall"] < recall <= hi["recall"]:
            t = (recall - lo["recall"]) / (hi["recall"] - lo["recall"])
            return math.exp(math.log(lo["qps"]) + t * (math.log(hi["qps"]) - math.log(lo["qps"])))
    if points and points[0]["recall"] >= recall:
        return None  # reached below the sweep's first point: the ratio would be a guess
    return None


def fmt(x: Optional[float], digits: int = 2, suffix: str = "") -> str:
    return "n/a" if x is None else f"{x:.{digits}f}{suffix}"


def ratio(a: Optional[float], b: Optional[float]) -> Optional[float]:
    return a / b if a is not None and b else None


def markdown(rows: List[dict], machine: str) -> str:
    out = []
    if machine:
        out.append(f"Measured on {machine}.\n")
    out.append("**Queries per second at equal recall@10 (1 thread)**: ann's QPS / Annoy's, and each one's QPS.\n")
    head = "| dataset | metric | trees | " + " | ".join(f"ratio @{t:.2f} (ann / Annoy QPS)" for t in TARGETS) + " |"
    out += [head, "|---|---|---:|" + "---:|" * len(TARGETS)]
    for r in rows:
        cells = []
        for t in TARGETS:
            a, b = qps_at(r["ann_curve"], t), qps_at(r["annoy_curve"], t)
            cells.append(f"**{fmt(ratio(a, b))}x** ({fmt(a, 0)} / {fmt(b, 0)})")
        out.append(f"| {r['dataset']} | {r['metric']} | {r['trees']} | " + " | ".join(cells) + " |")

    out.append("\n**Build, files and memory.** Build seconds with 1 thread; the 2-thread speedup is "
               "1-thread time / 2-thread time. Build peak RSS is above the benchmark's own (which holds the vectors); query RSS is what a query pass at recall 0.90 adds to a process that maps the file.\n")
    out += [
        "| dataset | trees | build 1t ann / Annoy (ratio) | 2t speedup ann / Annoy | file MB ann / Annoy "
        "| load ms ann / Annoy | build peak RSS MB ann / Annoy | query RSS MB ann / Annoy "
        "| 2-thread QPS @0.90 ann / Annoy (ratio) |",
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
        out.append("\n**Filtered search** (ann only; `ann_search` with a random allow-list, 1 thread, at the "
                   "search_k where unfiltered recall@10 first reaches 0.90). Recall is against the exact "
                   "filtered answer; *complete* counts answers with exactly min(n, accepted) results.\n")
        out += ["| dataset | trees | accepted items | search_k | QPS | recall@10 | complete |",
                "|---|---:|---:|---:|---:|---:|---:|"]
        for r in curves:
            for p in r["ann_filter_curve"]:
                share = 100.0 * p["accepted"] / r["n_items"]
                out.append(f"| {r['dataset']} {r['metric']} | {r['trees']} | {p['accepted']} ({share:.3g}%) "
                           f"| {p['search_k']} | {p['qps']:.0f} | {p['recall']:.4f} | {p['complete']}/{r['n_queries']} |")
    return "\n".join(out) + "\n"


def plot(rows: List[dict], path: str, machine: str) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    datasets = sorted({(r["dataset"], r["metric"]) for r in rows}, key=lambda d: [x for x in rows if (x["dataset"], x["metric"]) == d][0]["_order"])
    trees = sorted({r["trees"] for r in rows})
    fig, axes = plt.subplots(len(datasets), len(trees), figsize=(4.2 * len(trees), 3.4 * len(datasets)), squeeze=False)
    by_key: Dict[tuple, dict] = {(r["dataset"], r["metric"], r["trees"]): r for r in rows}
    for i, (dataset, metric) in enumerate(datasets):
        for j, t in enumerate(trees):
            ax = axes[i][j]
            r = by_key.get((dataset, metric, t))
            if r is None:
                ax.set_visible(False)
                continue
            for lib, style in zip(LIBS, ("o-", "s--")):
                pts = sorted(r[f"{lib}_curve"], key=lambda p: p["search_k"])
                ax.plot([p["recall"] for p in pts], [p["qps"] for p in pts], style, label=lib, markersize=3)
            ax.set_yscale("log")
            ax.set_xlim(left=max(0.5, min(p["recall"] for lib in LIBS for p in r[f"{lib}_curve"]) - 0.02), right=1.0)
            for target in TARGETS:
                ax.axvline(target, color="grey", linewidth=0.5, linestyle=":")
            ax.set_title(f"{dataset} {metric}, {t} trees", fontsize=9)
            ax.set_xlabel("recall@10", fontsize=8)
            ax.set_ylabel("queries/s (1 thread)", fontsize=8)
            ax.tick_params(labelsize=7)
            ax.grid(True, which="both", linewidth=0.3)
            ax.legend(fontsize=7)
    if machine:
        fig.suptitle(f"ann vs Annoy 1.17.3 — {machine}", fontsize=10)
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
