"""Writes the Spark start-up benchmark table (Markdown) and plot (PNG) from the bench's results.

usage: report.py RESULTS_JSON OUT_MD OUT_PNG
"""

import json
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402


def seconds(values):
    return statistics.median(values) / 1000


def main():
    results = json.load(open(sys.argv[1]))
    rows = results["rows"]
    lines = [
        "# Spark pilot start-up against Spark's own start commands",
        "",
        f"Measured {results['date']} on {results['cpus']} cores ({results['cpuModel']});",
        f"1-minute load {results['loadAverage']['start']:.1f} at the start, {results['loadAverage']['end']:.1f} at the end.",
        "**Ours:** `createPilot({type: 'spark'})` until its context (a Spark Connect session) answers,",
        "through the pilot's ssh connection for `slurm+ssh://` (the testbed's SLURM cluster, whose",
        "nodes share this machine's cores); Running means the master lists a worker on every node.",
        "**Peer, in the same round:** Spark's own start commands on this machine (the master, one",
        "worker per node and the Connect server, as Spark's `sbin` scripts run them) with RPC",
        "authentication and encryption and a Connect token, until the master lists every worker and",
        "a Connect client gets an answer.",
        f"Median of {results['runs']} rounds after one warm-up round; configurations and peers take turns.",
        "",
        "| configuration | pilot, median s | of which to Running | Running → context | Spark's own commands, median s | ratio pilot / own |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['label']} | {seconds(row['ours']):.2f} | {seconds(row['toRunning']):.2f} | {seconds(row['toContext']):.2f} | {seconds(row['peer']):.2f} | {row['ratio']:.2f} |"
        )
    lines += [
        "",
        "Where the time goes: a pilot records itself, launches its supervisor (an `sbatch` job on",
        "SLURM, then `srun` steps for the other nodes), issues the pilot's certificates and Java key",
        "and trust stores (`keytool` is a JVM start of its own), starts the master and waits for its",
        "port before starting workers and Connect, and asks the master's UI (mutual TLS) until every",
        "worker is listed; the context then reads the pilot's credentials and token (over SFTP for a",
        "remote pilot) and opens the session through the TLS front.",
        "",
        "![Spark start-up](spark.png)",
        "",
    ]
    open(sys.argv[2], "w").write("\n".join(lines))

    figure, axis = plt.subplots(figsize=(8, 3.5))
    names = [row["label"] for row in rows]
    positions = list(range(len(rows)))
    axis.barh([p - 0.2 for p in positions], [seconds(row["ours"]) for row in rows], 0.4, label="pilot (create → context)")
    axis.barh([p + 0.2 for p in positions], [seconds(row["peer"]) for row in rows], 0.4, label="Spark's own commands")
    axis.set_yticks(positions)
    axis.set_yticklabels(names, fontsize=9)
    axis.set_xlabel("seconds (median)")
    axis.set_title("Spark start-up")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(sys.argv[3], dpi=110)


if __name__ == "__main__":
    main()
