"""Writes the Flink start-up benchmark table (Markdown) and plot (PNG) from the bench's results.

usage: report.py RESULTS_JSON OUT_MD OUT_PNG
"""

import json
import statistics
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

# The project's goal for a pilot's start-up: at most this many times the framework's own.
GOAL_RATIO = 1.2


def seconds(values):
    return statistics.median(values) / 1000


def main():
    results = json.load(open(sys.argv[1]))
    rows = results["rows"]
    lines = [
        "# Flink pilot start-up against Flink's own start commands",
        "",
        f"Measured {results['date']} on {results['cpus']} cores ({results['cpuModel']});",
        f"1-minute load {results['loadAverage']['start']:.1f} at the start, {results['loadAverage']['end']:.1f} at the end.",
        "**Ours:** `createPilot({type: 'flink'})` until its context answers `version()` (the SQL",
        "Gateway's `/v1/info`), through the pilot's ssh connection for `slurm+ssh://` (the testbed's",
        "SLURM cluster, whose nodes share this machine's cores); Running means the JobManager lists",
        "a TaskManager on every node and the SQL Gateway answers.",
        "**Peer, in the same round:** Flink's own start commands on this machine",
        "(`bin/jobmanager.sh start-foreground`, one `bin/taskmanager.sh start-foreground` per node,",
        "`bin/sql-gateway.sh start-foreground`) with the pilot's `config.yaml` on 127.0.0.1 (ports",
        "Flink chooses, TLS on RPC, blob, data and REST, mutual TLS on REST) and its certificates",
        "issued beforehand, until the JobManager lists every TaskManager and the gateway answers.",
        f"Median of {results['runs']} round{'s' if results['runs'] > 1 else ''} after one warm-up round; configurations and peers take turns.",
        "",
        "| configuration | pilot, median s | of which to Running | Running → context | Flink's own commands, median s | ratio pilot / own |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for row in rows:
        lines.append(
            f"| {row['label']} | {seconds(row['ours']):.2f} | {seconds(row['toRunning']):.2f} | {seconds(row['toContext']):.2f} | {seconds(row['peer']):.2f} | {row['ratio']:.2f} |"
        )
    missed = [row["label"] for row in rows if row["ratio"] > GOAL_RATIO]
    met = [row["label"] for row in rows if row["ratio"] <= GOAL_RATIO]
    if not missed:
        verdict = "met in every configuration measured."
    elif not met:
        verdict = "not met in any configuration measured."
    else:
        verdict = f"met for {'; '.join(met)}, not for {'; '.join(missed)}."
    load = results["loadAverage"]
    lines += [
        "",
        f"The project's goal is a pilot start at most {GOAL_RATIO}× the framework's own: {verdict}",
        "",
        "Where the time goes: both sides run the same chain, which is almost all JVM start-up on",
        "these cores. Each Flink script first runs helper JVMs of its own (`BashJavaUtils`, which",
        "reads `config.yaml`) and only then the daemon's; the TaskManagers need the JobManager's",
        "RPC port from its log and the gateway its REST port, so the JobManager comes first and",
        "the gateway (the slowest of the three to listen) last, and the cluster is ready only",
        "once every TaskManager has registered over TLS. What the pilot adds: recording",
        "itself and launching its supervisor (a Node.js process; on SLURM an `sbatch` job), one",
        "pilot agent per node (`srun` steps on SLURM), issuing the pilot's certificates and PKCS#12",
        "stores (`keytool` is a JVM start of its own: about 1 s; the peer's are issued before its",
        "clock starts), polling logs and the REST endpoints every 250 ms, and, once Running, the",
        "context reading the client credentials (over SFTP for a remote pilot) before asking the",
        "gateway (mutual TLS, no front). A pilot's `supervisor.log` times each of these stages,",
        "and the bench's log the peer's (JobManager RPC, JobManager REST, gateway REST,",
        "TaskManagers listed), so a slow start shows where it lost its time. The JVM chain varies",
        "by several seconds from one start to the next when the cores are shared (the pilot's",
        f"Node.js processes, the bench's own JVMs: the 1-minute load went from {load['start']:.1f} to {load['end']:.1f} on {results['cpus']} cores here), so medians of",
        "few rounds carry that noise.",
        "",
        "![Flink start-up](flink.png)",
        "",
    ]
    open(sys.argv[2], "w").write("\n".join(lines))

    figure, axis = plt.subplots(figsize=(8, 3.5))
    names = [row["label"] for row in rows]
    positions = list(range(len(rows)))
    axis.barh([p - 0.2 for p in positions], [seconds(row["ours"]) for row in rows], 0.4, label="pilot (create → context)")
    axis.barh([p + 0.2 for p in positions], [seconds(row["peer"]) for row in rows], 0.4, label="Flink's own commands")
    axis.set_yticks(positions)
    axis.set_yticklabels(names, fontsize=9)
    axis.set_xlabel("seconds (median)")
    axis.set_title("Flink start-up")
    axis.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(sys.argv[3], dpi=110)


if __name__ == "__main__":
    main()
