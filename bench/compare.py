#!/usr/bin/env python3
"""Summarises bench/compare.sh's rounds: per figure and build, the median over the rounds,
their spread ((max - min) / median) and the ratio to the first build (> 1: better than it).

    compare.py --names A B... --results DIR [--info TEXT...] [--out FILE]

DIR holds NAME.roundR.jsonl files of the benchmark programs' JSON lines. Standard library only.
"""

import argparse
import glob
import json
import os
import statistics
import sys

from assemble import fmt


def load(results, name):
    """{(workload, setting, threads): [value per round]} and the units/directions seen."""
    figures, kinds = {}, {}
    for path in sorted(glob.glob(os.path.join(results, f"{name}.round*.jsonl"))):
        with open(path) as f:
            for line in f:
                row = json.loads(line)
                if "value" not in row:
                    continue  # a meta line
                key = (row["workload"], row["setting"], row["threads"])
                figures.setdefault(key, []).append(row["value"])
                kinds[key] = (row["unit"], row["better"])
    return figures, kinds


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", nargs="+", required=True)
    parser.add_argument("--results", required=True)
    parser.add_argument("--info", action="append", default=[])
    parser.add_argument("--out")
    args = parser.parse_args()

    data = {name: load(args.results, name) for name in args.names}
    first = args.names[0]
    figures, kinds = data[first]
    head = ["workload", "setting", "unit"]
    for name in args.names:
        head += [name, "spread"] if name == first else [name, "spread", f"{name} vs {first}"]
    lines = [f"Medians over the rounds of bench/compare.sh ({'; '.join(args.info)}).", "",
             "| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for key in figures:
        workload, setting, threads = key
        unit, better = kinds[key]
        base = statistics.median(figures[key])
        cells = [workload, f"{setting}, {threads} thr", unit]
        for name in args.names:
            values = data[name][0].get(key)
            if not values:
                cells += ["—", "—"] + ([] if name == first else ["—"])
                continue
            m = statistics.median(values)
            spread = (max(values) - min(values)) / m if m else float("nan")
            cells += [fmt(m), f"{100 * spread:.0f}%"]
            if name != first:
                r = m / base if better == "higher" else base / m
                cells.append(f"{r:.2f}×")
        lines.append("| " + " | ".join(cells) + " |")
    text = "\n".join(lines) + "\n"
    sys.stdout.write(text)
    if args.out:
        with open(args.out, "w") as f:
            f.write(text)


if __name__ == "__main__":
    main()
