"""Writes the SciStream benchmark table (Markdown) and plot (PNG) from the bench's results JSON.

usage: report.py RESULTS_JSON OUT_MD OUT_PNG
"""

import json
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

OURS = "SciStream native (TLS 1.3)"
STUNNEL = "stunnel pair (TLS 1.3)"
SSH = "ssh -L (aes128-gcm)"
SSH_DEFAULT = "ssh -L (default cipher)"


def main():
    results = json.load(open(sys.argv[1]))
    rows = results["rows"]
    paths = list(dict.fromkeys(row["path"] for row in rows))
    gbps = {(row["path"], row["streams"]): row["gbps"] for row in rows}
    streams = sorted({row["streams"] for row in rows})

    lines = [
        "# SciStream gateway benchmark",
        "",
        f"Measured {results['date']} on {results['cpus']} cores ({results['cpuModel']}), loopback,",
        f"`iperf3` for {results['seconds']} s per cell, both gateways as `s2cs` processes. Written by",
        "`npm run bench scistream`; the machine is shared (1-minute load average",
        f"{results['loadAverage']['start']:.2f} at the start, {results['loadAverage']['end']:.2f} at the end), "
        "so treat single runs as indicative.",
        "",
        "| path | " + " | ".join(f"{n} stream{'s' if n > 1 else ''} Gbit/s | ratio to direct" for n in streams) + " |",
        "|---|" + "---:|---:|" * len(streams),
    ]
    for path in paths:
        cells = []
        for n in streams:
            value = gbps[(path, n)]
            cells.append(f"{value:.2f} | {value / gbps[('direct', n)]:.2f}")
        lines.append(f"| {path} | " + " | ".join(cells) + " |")
    lines += ["", "Targets: our TLS gateway pair ≥ 1.3× the stunnel pair, ≥ 1.5× `ssh -L`.", ""]
    lines += [
        "| streams | ours / stunnel pair | ours / ssh -L (aes128-gcm) | ours / ssh -L (default cipher) |",
        "|---:|---:|---:|---:|",
    ]
    for n in streams:
        ours = gbps[(OURS, n)]
        lines.append(
            f"| {n} | {ours / gbps[(STUNNEL, n)]:.2f} | {ours / gbps[(SSH, n)]:.2f}"
            f" | {ours / gbps[(SSH_DEFAULT, n)]:.2f} |"
        )
    verdict = lambda ok: "met" if ok else "NOT met"  # noqa: E731
    lines += [
        "",
        "Targets in this run: ours ≥ 1.3× stunnel pair — "
        + ", ".join(f"{n} stream(s) {verdict(gbps[(OURS, n)] >= 1.3 * gbps[(STUNNEL, n)])}" for n in streams)
        + "; ours ≥ 1.5× `ssh -L` (aes128-gcm) — "
        + ", ".join(f"{n} stream(s) {verdict(gbps[(OURS, n)] >= 1.5 * gbps[(SSH, n)])}" for n in streams)
        + ".",
    ]
    setup = results["setupMs"]
    lines += [
        "",
        f"Whole-stream set-up (producer req + hello + update, consumer req + update with the key",
        f"hand-over; TLS control channel, OIDC JWT checked on every call), {setup['runs']} runs:",
        f"median {setup['median']:.1f} ms, min {setup['min']:.1f} ms, max {setup['max']:.1f} ms"
        f" (target < 100 ms: median {verdict(setup['median'] < 100)}; the first set-up includes"
        " the gateways' OIDC discovery and JWKS fetch).",
        "",
        "![throughput](scistream.png)",
        "",
    ]
    open(sys.argv[2], "w").write("\n".join(lines))

    figure, axis = plt.subplots(figsize=(9, 4.5))
    width = 0.8 / len(streams)
    for index, n in enumerate(streams):
        xs = [i + index * width for i in range(len(paths))]
        axis.bar(xs, [gbps[(p, n)] for p in paths], width, label=f"{n} stream{'s' if n > 1 else ''}")
    axis.set_xticks([i + width * (len(streams) - 1) / 2 for i in range(len(paths))])
    axis.set_xticklabels(paths, rotation=15, ha="right", fontsize=8)
    axis.set_ylabel("Gbit/s (iperf3, loopback)")
    axis.set_title("SciStream gateway pair vs peers")
    axis.legend()
    figure.tight_layout()
    figure.savefig(sys.argv[3], dpi=110)


if __name__ == "__main__":
    main()
