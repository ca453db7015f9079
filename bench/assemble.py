#!/usr/bin/env python3
"""Joins the JSON lines of the tapegrad benchmark programs and bench/torch_bench.py into
the markdown report bench/run.sh writes to bench/RESULTS.md (and prints).

    assemble.py [--out FILE] [--info KEY=VALUE ...] RESULTS.jsonl...

Each input line is a meta object ({"side", "program", "meta": {...}}) or a figure
({"side", "workload", "setting", "threads", "value", "unit", "better", ...}). Standard
library only.
"""

import argparse
import json
import os
import sys
import tempfile

SIDES = ("tapegrad", "pytorch")


class Parser(argparse.ArgumentParser):
    def error(self, message):
        usage = " ".join(self.format_usage().split()[1:])
        sys.stderr.write(f"assemble.py: {message} (usage: {usage})\n")
        sys.exit(2)


def fmt(v):
    """Three significant digits, like Reporter::format_value in bench/report.h."""
    if v is None:
        return "—"
    if v != v:  # NaN
        return "nan"
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    if abs(v) >= 1:
        return f"{v:.2f}"
    return f"{v:.3g}"


def ratio(tg, pt, higher_is_better):
    """How many times better tapegrad is (> 1: tapegrad ahead)."""
    if tg is None or pt is None or tg <= 0 or pt <= 0:
        return "—"
    r = tg / pt if higher_is_better else pt / tg
    return f"{r:.2f}×"


def load(paths):
    metas = {side: [] for side in SIDES}
    figures = []  # in reading order
    for path in paths:
        with open(path) as f:
            for n, line in enumerate(f, 1):
                line = line.strip()
                if not line:
                    continue
                try:
                    obj = json.loads(line)
                except json.JSONDecodeError as e:
                    sys.exit(f"assemble.py: {path}:{n}: not JSON ({e}): {line[:80]}")
                side = obj.get("side")
                if side not in SIDES:
                    sys.exit(f"assemble.py: {path}:{n}: unknown side {side!r}")
                if "meta" in obj:
                    metas[side].append(obj["meta"])
                else:
                    figures.append(obj)
    return metas, figures


def cpu_description():
    model, cpus = "unknown", 0
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    cpus += 1
    except OSError:
        pass
    flags = ""
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("flags"):
                    have = line.split()
                    flags = ", ".join(x for x in ("avx2", "avx512f") if x in have)
                    break
    except OSError:
        pass
    return f"{model}, {cpus} logical CPUs" + (f" ({flags})" if flags else "")


def busy_warning():
    """A warning when other work competed for the CPUs during the run (read at its end)."""
    try:
        with open("/proc/loadavg") as f:
            one, five, _ = (float(x) for x in f.read().split()[:3])
    except (OSError, ValueError):
        return ""
    cpus = os.cpu_count() or 1
    # The benchmark itself keeps at most `cpus` threads busy; more load is someone else's.
    if five <= cpus + 1:
        return ""
    return (f"the load average was {one:.1f} (1 min) / {five:.1f} (5 min) on {cpus} CPUs at "
            f"the end of the run: other processes competed for the cores, so these figures "
            f"(the 2-thread ones above all) are noise. Rerun on a quiet machine.")


def build(metas, figures, info):
    # (workload, setting, unit) in first-seen order -> {side: {threads: figure}}
    rows, order = {}, []
    threads_seen = set()
    for fig in figures:
        key = (fig["workload"], fig["setting"], fig["unit"])
        if key not in rows:
            rows[key] = {side: {} for side in SIDES}
            order.append(key)
        rows[key][fig["side"]][fig["threads"]] = fig
        threads_seen.add(fig["threads"])
    threads = sorted(threads_seen)

    def first_meta(side, field, default="?"):
        for m in metas[side]:
            if field in m:
                return m[field]
        return default

    out = ["# tapegrad vs PyTorch: benchmark results", ""]
    when = info.pop("date", None)
    command = info.pop("command", "bench/run.sh")
    commit = info.pop("commit", None)
    out.append(f"Written by `{command}`" + (f" on {when}" if when else "")
               + (f", tapegrad at git {commit}" if commit else "") + ".")
    out.append("")
    out.append(f"- **CPU**: {cpu_description()}")
    out.append(f"- **tapegrad** {first_meta('tapegrad', 'version')}, "
               f"{first_meta('tapegrad', 'compiler')}, release build, "
               f"{first_meta('tapegrad', 'kernels')} kernels (chosen at run time); "
               f"BLAS: {first_meta('tapegrad', 'blas')}. Threads: `tg::set_num_threads(n)` "
               f"(OpenMP and OpenBLAS together).")
    onednn = "on" if first_meta("pytorch", "mkldnn", False) else "off"
    out.append(f"- **PyTorch** {first_meta('pytorch', 'version')}, torchvision "
               f"{first_meta('pytorch', 'torchvision')}, Python {first_meta('pytorch', 'python')}"
               f" (Debian packages; oneDNN {onednn},"
               f" {first_meta('pytorch', 'parallel')}). Threads: `torch.set_num_threads(n)`, "
               f"`OPENBLAS_NUM_THREADS={first_meta('pytorch', 'OPENBLAS_NUM_THREADS')}`.")
    out.append(f"- **Thread settings**: n = {', '.join(map(str, threads))}, the same n on both "
               f"sides in each row; each (program, n) is its own process, the two sides "
               f"alternating workload by workload.")
    rep = sorted({len(f["samples"]) for f in figures
                  if f.get("samples") and not f["workload"].startswith("CIFAR")})
    cifar = sorted({len(f["samples"]) for f in figures
                    if f.get("samples") and f["unit"] == "s/epoch"
                    and f["workload"].startswith("CIFAR")})
    out.append(f"- **Figures**: the median of {'/'.join(map(str, rep)) or '?'} timed repeats "
               f"after one untimed warm-up repeat; memory: the peak of one run per process"
               + (f"; CIFAR-10: the median of {'/'.join(map(str, cifar))} epoch times "
                  f"(runs x epochs of the course recipe, each run a fresh network) and of the "
                  f"runs' test accuracies" if cifar else "") + ".")
    for k, v in info.items():
        out.append(f"- **{k}**: {v}")
    warning = busy_warning()
    if warning:
        out.append(f"- **Warning**: {warning}")
    out.append("- **ratio**: how many times better tapegrad is, > 1 when tapegrad is faster, "
               "smaller or more accurate (tapegrad / PyTorch for throughput and accuracy, "
               "PyTorch / tapegrad for time and memory).")
    out.append("")

    def value(fig):
        return None if fig is None else fig["value"]

    def better(key):
        for side in SIDES:
            for fig in rows[key][side].values():
                return fig["better"] == "higher"
        return True

    def best(key, side):
        """(threads, figure) of the side's best figure for this row."""
        figs = rows[key][side]
        if not figs:
            return None, None
        hib = better(key)
        if key[2] == "%":  # an accuracy: take the thread setting of the matching time row
            for other in order:
                if other[1] == key[1] and other[2] == "s/epoch" and rows[other][side]:
                    t, _ = best(other, side)
                    if t in figs:
                        return t, figs[t]
        t = (max if hib else min)(figs, key=lambda n: figs[n]["value"])
        return t, figs[t]

    out += ["## Summary: each side at its best thread setting", "",
            "| workload | setting | tapegrad | PyTorch | ratio |",
            "|---|---|---|---|---|"]
    for key in order:
        workload, setting, unit = key
        tt, tg = best(key, "tapegrad")
        pt_t, pt = best(key, "pytorch")
        cell_tg = "—" if tg is None else f"{fmt(tg['value'])} ({tt} thr)"
        cell_pt = "—" if pt is None else f"{fmt(pt['value'])} ({pt_t} thr)"
        out.append(f"| {workload} ({unit}) | {setting} | {cell_tg} | {cell_pt} | "
                   f"{ratio(value(tg), value(pt), better(key))} |")
    out.append("")

    def peak_share(tg, fig):
        """fig's useful GFLOP/s as a % of the square-sgemm peak tapegrad measured (same machine,
        same thread setting); for rows whose tapegrad figure gives FLOPs per image, or GFLOP/s."""
        if fig is None or tg is None or not tg.get("peak"):
            return None
        rate = fig["value"] * tg["flops"] / 1e9 if tg.get("flops") else (
            fig["value"] if tg["unit"] == "GFLOP/s" else None)
        return None if rate is None else 100 * rate / tg["peak"]

    out += ["## Every thread setting", "",
            "% of peak: useful GFLOP/s (convolutions' and linear layers' FLOPs, counted as direct "
            "convolution does them) as a share of the square 1024³ sgemm rate measured at the same "
            "thread setting, tapegrad / PyTorch. tapegrad's ResNet convolutions run Winograd "
            "F(2x2, 3x3), which does 2.25x fewer multiply-adds than this count, so its share can "
            "pass 100%.",
            "",
            "| workload | setting | tapegrad | PyTorch | ratio | % of peak | note |",
            "|---|---|---|---|---|---|---|"]
    for key in order:
        workload, setting, unit = key
        for n in threads:
            tg = rows[key]["tapegrad"].get(n)
            pt = rows[key]["pytorch"].get(n)
            if tg is None and pt is None:
                continue
            note = ""
            if tg is not None and tg.get("reference"):
                note = f"raw cblas_sgemm, same GEMMs: {fmt(tg['reference'])} {unit}"
                if tg.get("peak"):
                    note += (f"; square 1024³ sgemm (the machine's GEMM peak): "
                             f"{fmt(tg['peak'])} {unit}")
            if any(f is not None and "baseline" in f for f in (tg, pt)):
                base = [fmt(f.get("baseline")) if f else "—" for f in (tg, pt)]
                note = f"resident before the model, tapegrad / PyTorch: {base[0]} / {base[1]} MiB"
            shares = [peak_share(tg, f) for f in (tg, pt)]
            share = " / ".join("—" if v is None else f"{v:.0f}%" for v in shares)
            if all(v is None for v in shares):
                share = ""
            out.append(f"| {workload} ({unit}) | {setting}, {n} thread{'s' if n > 1 else ''} | "
                       f"{fmt(value(tg))} | {fmt(value(pt))} | "
                       f"{ratio(value(tg), value(pt), better(key))} | {share} | {note} |")
    out.append("")
    missing = [f"{k[0]} / {k[1]}: no {side} figure" for k in order for side in SIDES
               if not rows[k][side]]
    if missing:
        out += ["Missing figures:", ""] + [f"- {m}" for m in missing] + [""]
    out += ["Per-repeat samples and notes (work per repeat, final losses, the CIFAR-10 "
            "training loss) are in the programs' JSON lines: `bench/run.sh --keep DIR` keeps "
            "them.", ""]
    return "\n".join(out)


def main():
    parser = Parser(prog="assemble.py")
    parser.add_argument("--out", help="also write the report here (atomically)")
    parser.add_argument("--info", action="append", default=[], metavar="KEY=VALUE")
    parser.add_argument("--append", action="append", default=[], metavar="FILE",
                        help="a markdown file appended as it is (bench/COMPARE.md: builds "
                             "compared by compare.sh)")
    parser.add_argument("inputs", nargs="+")
    args = parser.parse_args()
    info = {}
    for item in args.info:
        if "=" not in item:
            parser.error(f"--info expects KEY=VALUE, got '{item}'")
        k, v = item.split("=", 1)
        info[k] = v
    metas, figures = load(args.inputs)
    if not figures:
        sys.exit("assemble.py: no figures in the inputs")
    report = build(metas, figures, info)
    for extra in args.append:
        if os.path.exists(extra):
            with open(extra) as f:
                report += "\n" + f.read()
    sys.stdout.write(report)
    if args.out:
        d = os.path.dirname(os.path.abspath(args.out))
        fd, tmp = tempfile.mkstemp(dir=d, prefix=".RESULTS.", suffix=".tmp")
        with os.fdopen(fd, "w") as f:
            f.write(report)
        os.chmod(tmp, 0o644)
        os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
