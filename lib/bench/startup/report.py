"""Writes the pilot start-up benchmark table (Markdown) and plot (PNG) from the bench's results JSON.

usage: report.py RESULTS_JSON OUT_MD OUT_PNG
"""

import json
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# Phases of a start, from the pilot record's history and the client's clock.
PHASES = [
    ("launchMs", "created → Pending"),
    ("startMs", "Pending → Running"),
    ("contextMs", "Running → context ready"),
]


def seconds(ms):
    return f"{ms / 1000:.2f}"


def main():
    results = json.load(open(sys.argv[1]))
    configurations = results["configurations"]
    measured = results["samples"]
    by_configuration = {
        name: [sample for sample in measured if sample["configuration"] == name] for name in configurations
    }

    def median_of(name, key):
        return statistics.median(sample[key] for sample in by_configuration[name])

    totals = {name: [sample["totalMs"] for sample in by_configuration[name]] for name in configurations}
    medians = {name: statistics.median(values) for name, values in totals.items()}
    peers = [(label, results[key]) for label, key in [("fork://", "fork"), ("slurm+ssh 1 node", "slurmOneNode")]]
    peers = [(label, name) for label, name in peers if name is not None]

    lines = [
        "# Pilot start-up benchmark",
        "",
        f"Measured {results['date']} on {results['cpus']} cores ({results['cpuModel']}). Start-up is",
        "`createPilot()` called → the pilot's context (a kafkajs client) answered a metadata request,",
        f"for a Kafka pilot; median of {results['runs']} run{'s' if results['runs'] > 1 else ''} per configuration,",
        "the configurations taking turns so that changes in load hit them alike.",
        (
            "`slurm+ssh://` runs on the testbed: sshd on loopback and a SLURM cluster of"
            " network-namespace nodes on the same machine, so it measures the software path (ssh2"
            " connection, SFTP, `sbatch`, queueing, bootstrap on the allocation, tunnelled context),"
            " not a network."
            if results["slurmOneNode"] is not None
            else "`slurm+ssh://` was not measured in this run (`STARTUP_BENCH_SCHEMES=fork`)."
        ),
        "Written by `npm run bench startup`; the machine is shared (1-minute load average"
        f" {results['loadAverage']['start']:.2f} at the start, {results['loadAverage']['end']:.2f} at the end),"
        " so treat single runs as indicative.",
        "",
        "| configuration | median s | min s | max s | "
        + " | ".join(f"ratio to {label}" for label, _ in peers)
        + " | brokers seen | cancel median s |",
        "|---|---:|---:|---:|" + "---:|" * len(peers) + "---:|---:|",
    ]
    for name in configurations:
        brokers = sorted({sample["brokers"] for sample in by_configuration[name]})
        lines.append(
            f"| {name} | {seconds(medians[name])} | {seconds(min(totals[name]))} | {seconds(max(totals[name]))} | "
            + " | ".join(f"{medians[name] / medians[peer]:.2f}" for _, peer in peers)
            + f" | {', '.join(map(str, brokers))} | {seconds(median_of(name, 'cancelMs'))} |"
        )
    cores = results["cpus"]
    lines += [
        "",
        "Where the time goes (medians, seconds, from the timestamps in the pilot record's history;",
        "Running → context ready includes the client noticing Running, it polls the record every 200 ms).",
        "The testbed's nodes share this machine's cores, so the CPU time the whole machine spent from",
        f"`createPilot()` to context ready bounds the start-up from below: it cannot end before that time ÷ {cores}",
        "cores, however parallel the nodes start. Of that, the brokers' share is what the pilot's broker JVMs",
        "had used by then (the storage format runs, one short JVM per node, ended before and are not in it).",
        "",
        "| configuration | "
        + " | ".join(title for _, title in PHASES)
        + f" | machine CPU s | of which brokers | ÷ {cores} cores | machine busy |",
        "|---|" + "---:|" * (len(PHASES) + 4),
    ]
    for name in configurations:
        cpu = median_of(name, "cpuSeconds")
        lines.append(
            f"| {name} | "
            + " | ".join(seconds(median_of(name, key)) for key, _ in PHASES)
            + f" | {cpu:.1f} | {median_of(name, 'brokerCpuSeconds'):.1f} | {cpu / cores:.1f}"
            + f" | {median_of(name, 'busy') * 100:.0f}% |"
        )
    producer = results["producer"]
    lines += [
        "",
        "What TLS costs (medians; the producer sends"
        f" {producer['messages']:,} messages of {producer['bytes']:,} bytes in batches of {producer['batch']:,}"
        " through the pilot's context once it is ready, idempotent, every batch acknowledged;"
        " `npm run bench kafka-tls` measures throughput at length):",
        "",
        "| pilot | start-up s, TLS | start-up s, PLAINTEXT | ratio | producer MB/s, TLS | producer MB/s, PLAINTEXT | ratio |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for pair in results["securityPairs"]:
        tls, plain = pair["tls"], pair["plaintext"]
        tls_rate, plain_rate = median_of(tls, "producerMBps"), median_of(plain, "producerMBps")
        lines.append(
            f"| {tls} | {seconds(medians[tls])} | {seconds(medians[plain])} | {medians[tls] / medians[plain]:.2f}"
            f" | {tls_rate:.1f} | {plain_rate:.1f} | {tls_rate / plain_rate:.2f} |"
        )
    lines += [
        "",
        "Each run's start-up, seconds, with the machine's 1-minute load average as the run began in",
        "brackets (run 1 is the first round: cold caches, and whatever a resource stages the first time):",
        "",
        "| configuration | " + " | ".join(f"run {index}" for index in range(1, results["runs"] + 1)) + " |",
        "|---|" + "---:|" * results["runs"],
    ]
    for name in configurations:
        lines.append(
            f"| {name} | "
            + " | ".join(f"{seconds(sample['totalMs'])} ({sample['load']:.1f})" for sample in by_configuration[name])
            + " |"
        )
    lines += ["", "![start-up](startup.png)", ""]
    open(sys.argv[2], "w").write("\n".join(lines))

    figure, axis = plt.subplots(figsize=(9, 4.5))
    positions = range(len(configurations))
    bottoms = [0.0] * len(configurations)
    for key, title in PHASES:
        heights = [median_of(name, key) / 1000 for name in configurations]
        axis.bar(positions, heights, 0.6, bottom=bottoms, label=f"{title} (median)")
        bottoms = [bottom + height for bottom, height in zip(bottoms, heights)]
    for position, name in zip(positions, configurations):
        values = [value / 1000 for value in totals[name]]
        axis.scatter([position + 0.38] * len(values), values, color="black", s=12, zorder=3)
        axis.vlines(position + 0.38, min(values), max(values), color="black", linewidth=1, zorder=3)
        axis.hlines(medians[name] / 1000, position + 0.3, position + 0.46, color="black", linewidth=2)
    axis.scatter([], [], color="black", s=12, label="each run's total, min–max line, median bar")
    axis.set_xticks(list(positions))
    axis.set_xticklabels(configurations, fontsize=9)
    axis.set_ylabel("seconds, create → context ready")
    # Head room for the legend above the tallest bar.
    axis.set_ylim(0, max(max(values) for values in totals.values()) / 1000 * 1.4)
    axis.set_title(f"Kafka pilot start-up, median of {results['runs']} per configuration")
    axis.legend(fontsize=8, loc="upper left")
    figure.tight_layout()
    figure.savefig(sys.argv[3], dpi=110)


if __name__ == "__main__":
    main()
