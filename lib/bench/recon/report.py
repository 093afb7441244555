"""Writes the reconstruction benchmark's table (Markdown) and plot (PNG) from the bench's results JSON.

usage: report.py RESULTS_JSON OUT_MD OUT_PNG

RESULTS_JSON (written by the TypeScript side of `npm run bench recon`):

{
  "date": "2026-12-01T08:00:00.000Z",           ISO time the run began
  "machine": {
    "cpus": 2,                                   cores the run could use (os.cpus().length)
    "cpuModel": "AMD EPYC",
    "loadAverage": {"start": 0.3, "end": 1.1}    optional: 1-minute load average, start and end
  },
  "data": "tooth.h5 ...",                        optional: where the sinograms came from
  "slices": 2, "angles": 181, "pixels": 640,     the block every implementation reconstructed
  "center": 296,                                 rotation axis, TomoPy's convention (peers.py's doc)
  "ours": {                                      a measurement left out (or null) is "not measured"
    "gridrec": {"singleCore": 12.5,              slices/s on one core (worker threads: 1)
                "multiCore": 23.0,               slices/s with all cores
                "threads": 2,                    threads used for multiCore
                "filter": "shepp"},              optional, shown as given
    "fbp":     {"singleCore": ..., "multiCore": ..., "threads": 2, "filter": "ramlak"},
    "mlem":    {"secondsPerIterationPerSlice": {"singleCore": 0.4, "multiCore": 0.21},
                "threads": 2, "iterations": 5}
  },
  "peers": { ...the JSON peers.py wrote, unchanged... },
  "correlations": {                              Pearson r of each peer's slice-0 image against ours
    "midas-gridrec": 0.995,                      a number, or
    "astra-mlem-linear": {"r": 0.998, "against": "ours mlem"}   one saying what it was compared with
  }
}

peers.py's JSON, as used here: {"cpu", "threadVariables", "input": {"repeats", "mlemIterations", ...},
"peers": {NAME: {"kind": "gridrec" | "fbp" | "mlem", "label", "package", "settings", "api", "notes",
"slicesPerSecond", "bestSlicesPerSecond" (gridrec, fbp) or "secondsPerIterationPerSlice",
"bestSecondsPerIterationPerSlice" (mlem), "seconds", "threadsAfter", "image"}},
"agreement": {NAME: {"against", "r"}}}.

Every ratio says how many times faster ours is than the peer (slices/s over slices/s, or the
peer's seconds per iteration over ours). The goal is ours on one core at least as fast as the
fastest peer of the same kind on one core (every peer runs on one core); the all-cores figure is
shown beside it, not judged. A peer whose image does not match ours (r below R_MIN) is flagged:
its speed is not comparable.
"""

import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

GOAL = 1.0
R_MIN = 0.95
MEASUREMENTS = [
    # our measurement, its title, the kind of peer it is compared with
    ("gridrec", "GridRec", "gridrec"),
    ("fbp", "Filtered back-projection", "fbp"),
    ("mlem", "ML-EM", "mlem"),
]


def fmt(value, digits=2):
    return "–" if value is None else f"{value:.{digits}f}"


def dagger(results, name):
    """' †' when the peer's image does not match ours (r below R_MIN), else ''."""
    r, _ = correlation(results, name)
    return " †" if r is not None and r < R_MIN else ""


def ratio_text(value):
    return "–" if value is None else f"{value:.2f}×"


def correlation(results, name):
    """(r, against) of a peer's image against ours, or (None, None) when not given."""
    value = (results.get("correlations") or {}).get(name)
    if value is None:
        return None, None
    if isinstance(value, dict):
        return value.get("r"), value.get("against")
    return float(value), None


def ours_figures(ours, key):
    """(single-core, multi-core, threads) of our measurement `key`, higher-is-better for throughput."""
    entry = (ours or {}).get(key)
    if not entry:
        return None, None, None
    if key == "mlem":
        seconds = entry.get("secondsPerIterationPerSlice") or {}
        return seconds.get("singleCore"), seconds.get("multiCore"), entry.get("threads")
    return entry.get("singleCore"), entry.get("multiCore"), entry.get("threads")


def speedup(key, ours, peer):
    """How many times faster ours is: throughput over throughput, or peer seconds over ours."""
    if ours is None or peer is None or ours <= 0 or peer <= 0:
        return None
    return peer / ours if key == "mlem" else ours / peer


def faster(key, value, other):
    """Is `value` a faster figure than `other` (seconds for mlem, slices/s otherwise)?"""
    return value < other if key == "mlem" else value > other


def peer_value(key, peer):
    return peer.get("secondsPerIterationPerSlice") if key == "mlem" else peer.get("slicesPerSecond")


def main():
    results_path, markdown_path, png_path = sys.argv[1:4]
    with open(results_path) as file:
        results = json.load(file)
    machine = results.get("machine") or {}
    peers_run = results.get("peers") or {}
    peers = peers_run.get("peers") or {}
    agreement = peers_run.get("agreement") or {}
    ours = results.get("ours") or {}
    settings = peers_run.get("input") or {}
    load = machine.get("loadAverage")

    lines = [
        "# Tomographic reconstruction benchmark",
        "",
        f"Measured {results['date']} on {machine.get('cpus', '?')} cores ({machine.get('cpuModel', 'unknown CPU')}),"
        f" one run of `npm run bench recon`: {results['slices']} slice(s) of {results['angles']} angles ×"
        f" {results['pixels']} pixels, rotation centre {results['center']}"
        + (f" ({results['data']})" if results.get("data") else "")
        + ".",
        "Every peer runs on one core (pinned to CPU"
        f" {peers_run.get('cpu', '?')}, its own thread options at 1, OMP/OpenBLAS/MKL/Numba threads 1),"
        f" after a warm-up pass, median of {settings.get('repeats', '?')} timed passes over the block;"
        " ours is measured on one core and on all cores. A ratio says how many times faster ours is"
        f" than that peer; the goal is ours on one core ≥ {GOAL:.1f}× the fastest peer of its kind on one core.",
        (
            f"The machine is shared (1-minute load average {load['start']:.2f} at the start, {load['end']:.2f} at the end),"
            " so treat a single run as indicative."
            if load
            else "The machine may be shared, so treat a single run as indicative."
        ),
        "",
    ]
    block = (settings.get("slices"), settings.get("angles"), settings.get("pixels"), settings.get("center"))
    if None not in block and block != (results["slices"], results["angles"], results["pixels"], results["center"]):
        lines += [
            f"**Warning:** the peers were given a different block ({block[0]} × {block[1]} × {block[2]},"
            f" centre {block[3]}): the ratios compare different work.",
            "",
        ]

    plot_groups = []
    for key, title, kind in MEASUREMENTS:
        single, multi, threads = ours_figures(ours, key)
        group = [name for name, peer in peers.items() if peer.get("kind") == kind]
        mlem = key == "mlem"
        unit = "s / iteration / slice (lower is better)" if mlem else "slices/s (higher is better)"
        lines += [f"## {title}", ""]
        if single is None and multi is None and not group:
            lines += ["Not measured in this run.", ""]
            continue
        extra = ours.get(key) or {}
        detail = []
        if extra.get("filter"):
            detail.append(f"our filter {extra['filter']}")
        if mlem:
            iterations = extra.get("iterations") or settings.get("mlemIterations")
            if iterations:
                detail.append(f"{iterations} iterations per slice")
        column = "s / iteration / slice" if mlem else "slices/s"
        lines += [
            f"{unit}{'; ' + ', '.join(detail) if detail else ''}.",
            "",
            f"| implementation | package | threads | {column} | ours 1 core vs it | ours all cores vs it |",
            "|---|---|---:|---:|---:|---:|",
        ]
        digits = 4 if mlem else 2
        if single is not None:
            lines.append(f"| **ours**, 1 core | | 1 | {fmt(single, digits)} | | |")
        if multi is not None:
            lines.append(f"| **ours**, all cores | | {threads or '?'} | {fmt(multi, digits)} | | |")
        bars = [("ours, 1 core", single, "ours"), (f"ours, {threads or 'all'} threads", multi, "ours")]
        fastest = None
        for name in group:
            peer = peers[name]
            value = peer_value(key, peer)
            lines.append(
                f"| {peer.get('label', name)}{dagger(results, name)} | {peer.get('package', '?')} | 1 |"
                f" {fmt(value, digits)} | {ratio_text(speedup(key, single, value))} |"
                f" {ratio_text(speedup(key, multi, value))} |"
            )
            bars.append((peer.get("label", name), value, "peer"))
            if value is not None and (fastest is None or faster(key, value, peer_value(key, peers[fastest]))):
                fastest = name
        lines.append("")
        if fastest is not None:
            best = speedup(key, single, peer_value(key, peers[fastest]))
            label = peers[fastest].get("label", fastest)
            caveat = " († its image does not match ours)" if dagger(results, fastest) else ""
            if best is None:
                lines.append(f"Goal, ours on 1 core ≥ {GOAL:.1f}× the fastest peer ({label}): ours not measured.")
            else:
                met = "met" if best >= GOAL else "**not met**"
                lines.append(
                    f"Goal, ours on 1 core ≥ {GOAL:.1f}× the fastest peer ({label}){caveat}: {best:.2f}× — {met}."
                )
            lines.append("")
        plot_groups.append((title, unit, mlem, [bar for bar in bars if bar[1] is not None]))

    lines += [
        "## Do the peers reconstruct the same tooth?",
        "",
        "Pearson r of each peer's slice 0 against ours, and against another peer (peers.py, inside the"
        f" inscribed circle). A speed ratio means little if r is low (below {R_MIN}, marked †). ML-EM after"
        " a few iterations is much smoother than a filtered reconstruction, so its r against an FBP peer"
        " is lower (about 0.9) by nature.",
        "",
        "| peer | r against ours | compared with | r against a peer | that peer |",
        "|---|---:|---|---:|---|",
    ]
    for name, peer in peers.items():
        r, against = correlation(results, name)
        check = agreement.get(name) or {}
        against_peer = peers.get(check.get("against"), {}).get("label", check.get("against", "–"))
        lines.append(
            f"| {peer.get('label', name)} | {fmt(r, 4)}{dagger(results, name)} |"
            f" {against or 'ours, same algorithm'} | {fmt(check.get('r'), 4)} | {against_peer} |"
        )
    lines += [
        "",
        "## How the peers were run",
        "",
        f"Python {peers_run.get('python', '?')}, numpy {peers_run.get('numpy', '?')}; thread variables"
        f" {', '.join(f'{k}={v}' for k, v in (peers_run.get('threadVariables') or {}).items()) or '–'}."
        f" Images are on {peers_run.get('imageGrid', 'the same grid as ours')}.",
        "",
    ]
    for name, peer in peers.items():
        threads = peer.get("threadsAfter") or {}
        pinned = ", ".join(str(cpus) for cpus in threads.get("affinities", [])) or "?"
        notes = "; ".join(peer.get("notes") or [])
        lines.append(
            f"- **{peer.get('label', name)}** ({peer.get('package', '?')}): `{peer.get('api', '?')}`."
            + (f" {notes[0].upper() + notes[1:]}." if notes else "")
            + f" Threads in the process afterwards: {threads.get('threads', '?')}, allowed CPUs {pinned}."
        )
    lines += ["", f"![reconstruction benchmark]({os.path.basename(png_path)})", ""]
    with open(markdown_path, "w") as file:
        file.write("\n".join(lines))

    plot(plot_groups, results, png_path)


def plot(groups, results, png_path):
    if not groups:
        groups = [("nothing measured", "", False, [])]
    figure, axes = plt.subplots(
        1,
        len(groups),
        figsize=(4.2 * len(groups) + 1, 4.8),
        gridspec_kw={"width_ratios": [max(len(g[3]), 1) for g in groups]},
    )
    if len(groups) == 1:
        axes = [axes]
    colours = {"ours": "#1f77b4", "peer": "#ff7f0e"}
    for axis, (title, unit, mlem, bars) in zip(axes, groups):
        labels = [label for label, _, _ in bars]
        values = [value for _, value, _ in bars]
        positions = range(len(bars))
        axis.bar(positions, values, 0.65, color=[colours[who] for _, _, who in bars])
        for position, value in zip(positions, values):
            axis.text(position, value, f"{value:.3g}", ha="center", va="bottom", fontsize=8)
        axis.set_xticks(list(positions))
        axis.set_xticklabels(labels, rotation=35, ha="right", fontsize=8)
        axis.set_title(title, fontsize=10)
        axis.set_ylabel(unit, fontsize=8)
        if bars and bars[0][0] == "ours, 1 core":
            axis.axhline(values[0], color=colours["ours"], linestyle="--", linewidth=0.8)
        if values:
            axis.set_ylim(0, max(values) * 1.18)
    handles = [plt.Rectangle((0, 0), 1, 1, color=colour) for colour in colours.values()]
    figure.legend(handles, ["ours", "peers (1 core each)"], loc="upper right", fontsize=8)
    figure.suptitle(
        f"Reconstruction of {results['slices']} × {results['angles']} × {results['pixels']} sinograms,"
        f" {(results.get('machine') or {}).get('cpus', '?')}-core {(results.get('machine') or {}).get('cpuModel', '')}",
        fontsize=10,
    )
    figure.tight_layout()
    figure.savefig(png_path, dpi=110)


if __name__ == "__main__":
    main()
