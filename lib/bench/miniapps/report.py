"""Writes the Streaming Mini-Apps benchmark's table (Markdown) and plot (PNG) from its results JSON.

usage: report.py RESULTS_JSON OUT_MD OUT_PNG

RESULTS_JSON is what miniapps.run.ts collects: {"date", "machine": {"cpus", "cpuModel", "node",
"kafka", "loadAverage": {"start", "end"}}, "rows": {ROW: {"status": "measured" | "failed", ...}}}
with ROW one of producer, kmeans, gridrec, latency, scaling (a row not run is absent). Every
figure of a row was measured in the same run as the peer it is compared with; the targets are
those of issue #9 (done-when 7), and the report says which are met and, where one is not, where
the time goes, from the profiles and CPU readings of the same run. Nothing here asserts.
"""

import json
import os
import sys

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

PRODUCER_TARGET = 0.7
KMEANS_TARGET = 2000
GRIDREC_TARGET = 0.9
P50_TARGET = 5.0
P99_TARGET = 25.0
OURS, PEER, OTHER = "#1f77b4", "#ff7f0e", "#7f7f7f"


def num(value, digits=1):
    if value is None:
        return "–"
    return f"{value:,.{digits}f}"


def ratio(value):
    return "–" if value is None else f"{value:.2f}×"


def ratio_range(ours, truncated):
    """Ours over a whole-millisecond figure n that stands for [n, n + 1)."""
    if ours is None:
        return "–"
    low = ours / (truncated + 1)
    return f"{low:.2f}×" if truncated == 0 else f"{low:.2f}–{ours / truncated:.2f}×"


def verdict(met):
    return "**met**" if met else "**not met**"


def size_label(size):
    return f"{size / 1e6:g} MB"


def cores(cpu, group):
    return None if not cpu else (cpu.get("groups") or {}).get(group)


def share_table(profile, messages=None, per="message"):
    """The profile's categories: share of the active span, and ms per message when known."""
    lines = [
        f"| where the time went | share | ms per {per} |" if messages else "| where the time went | share |",
        "|---|---:|---:|" if messages else "|---|---:|",
    ]
    for entry in profile["categories"]:
        if entry["share"] < 0.005:
            continue
        row = f"| {entry['category']} | {entry['share'] * 100:.1f} % |"
        if messages:
            row += f" {entry['seconds'] * 1000 / messages:.3f} |"
        lines.append(row)
    return lines


def top_functions(profile, count=5):
    return ", ".join(
        f"`{entry['name']}` {entry['share'] * 100:.0f} %" for entry in profile["top"][:count]
    )


def label_of(value):
    return f"{value:,.0f}" if value >= 100 else f"{value:.3g}"


def failed(row):
    return row is None or row.get("status") != "measured"


# ---- rows ----


def producer_section(row):
    lines = ["## 1. MASS producer MB/s vs `kafka-producer-perf-test`", ""]
    if failed(row):
        return lines + [not_measured(row), ""], []
    lines += [
        f"One producer each, `acks=all` (kafkajs' default acks = −1 for ours), no compression, topics of"
        f" {row['partitions']} partitions with `max.message.bytes` = 4 MiB created beforehand, payload of random-looking"
        f" bytes. Ours: `mass(pilot, {{source: {{kind: 'synthetic-bytes', size}}, rate: 'unlimited', messages,"
        f" producers: 1, topic}})`. The peer: `kafka-producer-perf-test.sh --topic TOPIC --num-records N --record-size"
        " SIZE --throughput -1 --command-property acks=all max.request.size=4194304 --reporting-interval 1000`"
        f" against the same broker. {row['tools']}.",
        "",
        "**The figure compared is the steady-state payload rate** (10⁶ bytes of payload per second; our"
        " message header of about 100 bytes is left out of both): for ours, the run record's 1 s windows from the"
        " first to the last with traffic, without that first and last window (they are partial: the unit's start and"
        " the last acknowledgements); for the peer, its own 1 s reporting windows without the first (connection,"
        " metadata and JIT warm-up). Whole-run figures are shown beside it: the perf test's own total over its whole"
        " send, and ours over every window with traffic (rounded out to whole windows, so slightly pessimistic)."
        " (`RunSummary.producedMBPerSecond` is over the seconds with traffic, partial first and last windows"
        " included.)"
        f" Ours and the peer take turns, {row['rounds']} rounds (the first of a round goes second in the next); the"
        " ratio judged is the median of the rounds' ratios (each round's two runs ran back to back, under about the"
        " same load), the MB/s shown are the medians of the rounds.",
        "",
        "| message size | messages | ours MB/s | perf test MB/s | ratio (median of rounds) | per-round ratios | target | ours, whole run | perf test, whole run |",
        "|---|---:|---:|---:|---:|---|---|---:|---:|",
    ]
    summary = []
    for case in row["cases"]:
        r = producer_ratio(case)
        met = r >= PRODUCER_TARGET
        summary.append(
            (
                f"MASS producer, {size_label(case['size'])} messages",
                f"{num(case['ours']['steadyMBps'])} MB/s",
                f"{num(case['peer']['steadyMBps'])} MB/s (kafka-producer-perf-test)",
                ratio(r),
                f"≥ {PRODUCER_TARGET}×",
                verdict(met),
            )
        )
        lines.append(
            f"| {size_label(case['size'])} | {case['messages']} | {num(case['ours']['steadyMBps'])} |"
            f" {num(case['peer']['steadyMBps'])} | {ratio(r)} |"
            f" {', '.join(f'{x:.2f}' for x in case.get('roundRatios', []))} | ≥ {PRODUCER_TARGET}× {verdict(met)} |"
            f" {num(case['ours']['wholeMBps'])} | {num(case['peer']['wholeMBps'])} |"
        )
    lines += [
        "",
        "Every run, with the cores the producer client, the broker and the whole machine used over the steady-state"
        " windows (CPU time from /proc ÷ wall time; the machine's beyond client and broker is other users') and the"
        " 1-minute load average as it began:",
        "",
        "| size | round | who | steady MB/s | whole-run MB/s | windows | client cores | broker cores | machine busy cores | MB per client CPU-second | load |",
        "|---|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for case in row["cases"]:
        for run in case["runs"]:
            client = cores(run.get("cpu"), "client")
            # Payload per CPU-second of the client: how much work each byte costs it.
            efficiency = run["steadyMBps"] / client if client else None
            lines.append(
                f"| {size_label(case['size'])} | {run['round']} | {'ours' if run['who'] == 'ours' else 'perf test'} |"
                f" {num(run['steadyMBps'])} | {num(run['wholeMBps'])} | {run['windows']} | {num(client, 2)} |"
                f" {num(cores(run.get('cpu'), 'brokers'), 2)} | {num((run.get('cpu') or {}).get('machineCores'), 2)} |"
                f" {num(efficiency, 0)} | {run['load']:.2f} |"
            )
    lines += ["", "### Where our producer's time goes", ""]
    for case in row["cases"]:
        profile = case["profile"]
        per_message = profile["seconds"] / profile["messages"] * 1000
        lines += [
            f"**{size_label(case['size'])}**: our producer unit run by hand under `node --cpu-prof` (the same"
            f" `unit-main.js` and spec a MASS run submits) sent {profile['messages']} messages; over the"
            f" {profile['seconds']:.2f} s from its first to its last message encoding, {per_message:.2f} ms per message"
            f" ({case['size'] / 1e6 / (per_message / 1000):.0f} MB/s while profiled); over its whole life, start-up"
            f" included, it used {profile['cpuSeconds'] / profile['wallSeconds']:.2f} cores"
            f" ({profile['cpuSeconds']:.2f} CPU-s in {profile['wallSeconds']:.2f} s). Where the active time went (self"
            " time, with builtins and Node's library counted towards the package code that called them):",
            "",
            *share_table(profile, profile["messages"]),
            "",
            f"Top functions: {top_functions(profile)}.",
            "",
        ]
    lines += producer_explanation(row)
    return lines, summary


def median_of(values):
    values = sorted(v for v in values if v is not None)
    if not values:
        return None
    middle = len(values) // 2
    return values[middle] if len(values) % 2 else (values[middle - 1] + values[middle]) / 2


def producer_ratio(case):
    ratios = sorted(case.get("roundRatios") or [case["ours"]["steadyMBps"] / case["peer"]["steadyMBps"]])
    middle = len(ratios) // 2
    return ratios[middle] if len(ratios) % 2 else (ratios[middle - 1] + ratios[middle]) / 2


def producer_explanation(row):
    lines = []
    for case in row["cases"]:
        profile = case["profile"]
        shares = {entry["category"]: entry["share"] for entry in profile["categories"]}
        crc = shares.get("kafkajs CRC-32C (in JavaScript)", 0)
        copies = shares.get("kafkajs request encoding (copies)", 0)
        gc = shares.get("garbage collection", 0)
        idle = shares.get("idle (waiting for the broker or the network)", 0)
        ours_runs = [run for run in case["runs"] if run["who"] == "ours"]
        peer_runs = [run for run in case["runs"] if run["who"] == "peer"]

        r = producer_ratio(case)
        lines.append(
            f"- **{size_label(case['size'])}** (ratio {r:.2f}×, target {'met' if r >= PRODUCER_TARGET else 'not met'}):"
            + (
                f" our producer is CPU-bound in the kafkajs client, not waiting for the broker (idle {idle * 100:.0f} %"
                " of its active time):"
                if idle < 0.15
                else f" our producer waited for the broker {idle * 100:.0f} % of its active time; for the rest,"
            )
            + " kafkajs computes each record batch's CRC-32C in JavaScript, a table lookup per byte"
            f" ({crc * 100:.0f} % of the time), builds each request by copying the message into new Buffers"
            f" ({copies * 100:.0f} %, the Buffer allocations and copies counted with it) and the garbage collector"
            f" reclaims them ({gc * 100:.0f} %). The Java client checksums with `java.util.zip.CRC32C` (a JIT intrinsic"
            " using the CPU's CRC32 instruction) and copies a record once, into its batch buffer, which it writes to the"
            f" socket. Per client CPU-second, in the steady windows (medians of the rounds): the perf test"
            f" {num(median_of([r['steadyMBps'] / cores(r.get('cpu'), 'client') for r in peer_runs if cores(r.get('cpu'), 'client')]), 0)} MB,"
            f" ours {num(median_of([r['steadyMBps'] / cores(r.get('cpu'), 'client') for r in ours_runs if cores(r.get('cpu'), 'client')]), 0)} MB."
        )
    lines.append(
        "- On 2 cores the broker (it writes at the same time) and the client compete, and other users' processes take"
        " their share (the machine column). Where the ratio falls short, the way up is in the client: a native"
        " CRC-32C and fewer copies, both inside kafkajs (see the notes at the end)."
    )
    return lines + [""]


def kmeans_section(row):
    lines = ["## 2. Streaming KMeans messages/s per core", ""]
    if failed(row):
        return lines + [not_measured(row), ""], []
    ours = row["ours"]
    peers = row["peer"]["perSecond"]
    best_name = max(peers, key=peers.get)
    best = peers[best_name]
    per_core = ours["trainAndPredict"]
    met = per_core >= KMEANS_TARGET
    labels = {
        "matmul": "NumPy, ‖x‖² − 2x·cᵀ + ‖c‖² (BLAS matmul)",
        "broadcast": "NumPy, broadcast (x − c)² over points × k × 3",
    }
    lines += [
        f"Messages of 5,000 3-D points (the MASS `cluster` source: 10 clusters, seed 1; {row['messageBytes']:,} bytes"
        f" encoded), k = 10 centres drawn as the MASA `kmeans` processor draws them (Spark's setRandomCenters, seed 42,"
        " weight 0), decay 1: one mini-batch per message, each point assigned to its nearest centre, then"
        " c ← (c·w·decay + Σx) / (w·decay + n), w ← w·decay + n. Both run on one core (`taskset -c"
        f" {row['cpu']}`; NumPy with OMP/OpenBLAS/MKL threads 1, Python {row['peer']['python']}, numpy"
        f" {row['peer']['numpy']}), the same {row['messages']} messages, median of {row['repeats']} passes after a"
        " warm-up pass.",
        "",
        "| implementation (one core) | messages/s | ours vs it | max \\|Δ centre\\| vs ours after one pass |",
        "|---|---:|---:|---:|",
        f"| **ours**, `StreamingKMeans.trainAndPredict` | {num(per_core, 0)} | | |",
        f"| ours, decode the message + train (decoding is zero-copy: the two differ by noise) | {num(ours['decodeAndTrain'], 0)} | | |",
    ]
    for name, value in sorted(peers.items(), key=lambda item: -item[1]):
        lines.append(
            f"| {labels.get(name, name)} | {num(value, 0)} | {ratio(per_core / value)} |"
            f" {row['peer']['maxCenterDifference'][name]:.1e} |"
        )
    lines += [
        "",
        f"Target ≥ {KMEANS_TARGET:,} messages/s per core: {num(per_core, 0)} — {verdict(met)}"
        f" ({per_core * 5000 / 1e6:.1f} M points/s). Against the fastest NumPy form ({labels[best_name]}): {ratio(per_core / best)}."
        " The broadcast form agrees with ours to the last bits; the matmul form's rounding moves a few points near a"
        " boundary to the other centre.",
        "",
    ]
    pipe = row["pipeline"]
    per_message = {
        "kmeans": 1000 / pipe["kmeansPerSecond"],
        "count": 1000 / pipe["countPerSecond"],
        "compute": 1000 / ours["trainAndPredict"],
    }
    lines += [
        "### Through the pipeline",
        "",
        f"`mass(pilot, {{source: 'cluster', rate: 'unlimited', messages: {pipe['messages']:,}, producers:"
        f" {pipe['producers']}}})`, and once it had ended `masa(pilot, {{topic, processor: 'kmeans', consumers: 1,"
        " until: 'drained'}})`, then the same topic again with `processor: 'count'` (a consumer that decodes and"
        " counts, nothing else). The topic is filled first so that the consumer's rate is its own: on 2 cores a"
        " producer running beside it takes a core (generating the points costs more than the KMeans step, below)."
        " Steady-state rates from the run records' windows, as in row 1.",
        "",
        "| stage | messages/s | ms per message | windows | consumer cores | broker cores | machine busy cores |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| MASS cluster, {pipe['producers']} producers (filling the topic) | {num(pipe['producedPerSecond'], 0)} | | | | | |",
        f"| MASA `kmeans`, 1 consumer | {num(pipe['kmeansPerSecond'], 0)} | {per_message['kmeans']:.3f} |"
        f" {pipe['kmeansWindows']} | {num(cores(pipe['kmeansCpu'], 'consumers'), 2)} |"
        f" {num(cores(pipe['kmeansCpu'], 'brokers'), 2)} | {num(pipe['kmeansCpu']['machineCores'], 2)} |",
        f"| MASA `count`, 1 consumer | {num(pipe['countPerSecond'], 0)} | {per_message['count']:.3f} |"
        f" {pipe['countWindows']} | {num(cores(pipe['countCpu'], 'consumers'), 2)} |"
        f" {num(cores(pipe['countCpu'], 'brokers'), 2)} | {num(pipe['countCpu']['machineCores'], 2)} |",
        f"| the KMeans step alone, in-process (above) | {num(ours['trainAndPredict'], 0)} | {per_message['compute']:.3f} | | | | |",
        "",
        f"Through the pipeline one consumer processed {num(pipe['kmeansPerSecond'], 0)} messages/s, "
        f"{pipe['kmeansPerSecond'] / ours['trainAndPredict']:.2f}× the in-process rate: a message costs the consumer"
        f" {per_message['kmeans']:.3f} ms, of which the KMeans step is {per_message['compute']:.3f} ms and fetching and"
        f" decoding it (the `count` run) about {per_message['count']:.3f} ms"
        f" (sum {per_message['compute'] + per_message['count']:.3f} ms). Per message, the producer side costs more:"
        f" generating 15,000 normal deviates {1000 / ours['generate']:.3f} ms, encoding {1000 / ours['encode']:.3f} ms"
        f" (decoding is zero-copy: {1000 / ours['decode']:.4f} ms).",
        "",
    ]
    profile = pipe.get("profile")
    if profile:
        shares = {entry["category"]: entry for entry in profile["categories"]}

        def ms(category):
            entry = shares.get(category)
            return entry["seconds"] * 1000 / profile["messages"] if entry else 0.0

        idle = shares.get("idle (waiting for the broker or the network)", {"share": 0})["share"]
        lines += [
            f"Where the consumer's time goes: in the steady windows it used {num(cores(pipe['kmeansCpu'], 'consumers'), 2)}"
            " cores. The KMeans consumer unit run by hand under `node --cpu-prof` on the same topic"
            f" ({profile['messages']:,} messages, a group of its own) spent {ms('processing (KMeans, reconstruction)'):.3f} ms"
            f" per message in the KMeans step, {ms('kafkajs other (network, queues, promises)') + ms('kafkajs fetch decoding') + ms('kafkajs request encoding (copies)'):.3f}"
            f" ms in kafkajs, {ms('garbage collection'):.3f} ms collecting garbage, and waited"
            f" {ms('idle (waiting for the broker or the network)'):.3f} ms ({idle:.0%} of its time) for fetch responses:"
            " kafkajs fetches the next batch only once the current one has been processed (`kafkajs/src/consumer/fetcher.js`:"
            ' "fetches data from all assigned nodes, waits for workerQueue to drain and repeats"), so fetching and'
            " processing never overlap. The `count` run shows the same transport cost without the KMeans step.",
            "",
            *share_table(profile, profile["messages"]),
            "",
            f"Top functions: {top_functions(profile)}.",
            "",
        ]
    summary = [
        (
            "KMeans, messages/s per core (in-process)",
            f"{num(per_core, 0)} msg/s",
            f"{num(best, 0)} msg/s (NumPy {best_name})",
            ratio(per_core / best),
            f"≥ {KMEANS_TARGET:,} msg/s",
            verdict(met),
        ),
        (
            "KMeans through MASS → Kafka → MASA, 1 consumer",
            f"{num(pipe['kmeansPerSecond'], 0)} msg/s",
            f"{num(per_core, 0)} msg/s (ours in-process)",
            ratio(pipe["kmeansPerSecond"] / per_core),
            "–",
            "–",
        ),
    ]
    return lines, summary


def gridrec_section(row):
    lines = ["## 3. Streaming GridRec vs offline `recon`", ""]
    if failed(row):
        return lines + [not_measured(row), ""], []
    offline = row["offlinePerSecond"]
    single = row["singlePerSecond"]
    streaming = row["streamingPerSecond"]
    r = streaming / offline
    met = r >= GRIDREC_TARGET
    lines += [
        f"The tooth (tooth.h5, APS 32-ID): {row['angles']} angles × {row['pixels']} pixels per sinogram, rotation"
        f" centre {row['center']}. Offline: `reconstruct(block, angles, {{algorithm: 'gridrec', center:"
        f" {row['center']}, threads: 1}})` on its 2 rows tiled to {row['slices']} slices, median of {row['repeats']}"
        " passes after a warm-up, measured before and after the streaming runs (the mean is the peer). Streaming:"
        f" `mass(pilot, {{source: {{kind: 'lightsource', file: tooth.h5, rotationCenter: {row['center']}}}, rate:"
        f" 'unlimited', messages: {row['messages']}}})` (one sinogram, {row['messageBytes']:,} bytes, per message),"
        f" then `masa(pilot, {{topic, processor: {{kind: 'gridrec', center: {row['center']}}}, consumers: 1, until:"
        " 'drained'}})` on the filled topic, steady-state rate from the record's windows.",
        "",
        "| what | slices (messages)/s | vs offline | windows | consumer cores | broker cores | machine busy cores |",
        "|---|---:|---:|---:|---:|---:|---:|",
        f"| offline `recon`, 1 thread (before, after: {', '.join(num(x) for x in row['offlineBeforeAfter'])}) | {num(offline)} | 1.00× | | | | |",
        f"| one sinogram at a time, in-process (`createReconstructor`) (before, after: {', '.join(num(x) for x in row['singleBeforeAfter'])}) |"
        f" {num(single)} | {ratio(single / offline)} | | | | |",
        f"| **streaming**, MASA `gridrec`, 1 consumer | {num(streaming)} | {ratio(r)} | {row['streamingWindows']} |"
        f" {num(cores(row['streamingCpu'], 'consumers'), 2)} | {num(cores(row['streamingCpu'], 'brokers'), 2)} |"
        f" {num(row['streamingCpu']['machineCores'], 2)} |",
        f"| MASA `count` on the same topic (transport alone) | {num(row['countPerSecond'])} | | {row['countWindows']} |"
        f" {num(cores(row['countCpu'], 'consumers'), 2)} | {num(cores(row['countCpu'], 'brokers'), 2)} |"
        f" {num(row['countCpu']['machineCores'], 2)} |",
        "",
        f"Target, streaming ≥ {GRIDREC_TARGET}× offline: {ratio(r)} — {verdict(met)}.",
        "",
        "### Where the time goes",
        "",
    ]
    profile = row.get("profile")
    processing = None
    if profile:
        shares = {entry["category"]: entry for entry in profile["categories"]}
        processing = shares.get("processing (KMeans, reconstruction)")
    lines.append(
        f"- **GridRec pairs slices.** TomoPy's GridRec, and ours, reconstruct two sinograms at once as the real and"
        f" imaginary parts of one complex transform. Offline `recon` does so ({num(offline)} slices/s); one sinogram"
        f" alone goes at {num(single)} slices/s in-process ({single / offline:.2f}×). A GridRec consumer therefore"
        " takes the messages waiting in its fetched batch two at a time and reconstructs their sinograms as one"
        " block (bit-identical to offline's pairs); a message that arrives alone is reconstructed alone."
    )
    if profile and processing:
        per_message = profile["seconds"] * 1000 / profile["messages"]
        others = [
            f"{entry['category']} {entry['seconds'] * 1000 / profile['messages']:.1f} ms"
            for entry in profile["categories"]
            if entry is not processing and entry["share"] >= 0.01
        ]
        lines.append(
            f"- **Against one sinogram at a time in-process** the stream runs at {streaming / single:.2f}×"
            f" ({num(streaming)} messages/s against {num(single)}). The GridRec consumer unit under `node --cpu-prof`"
            f" ({profile['messages']} messages, {per_message:.1f} ms each while active) spent"
            f" {processing['share'] * 100:.0f} % of that reconstructing ({processing['seconds'] * 1000 / profile['messages']:.1f}"
            f" ms per message against {1000 / single:.1f} ms in-process), the rest in: {', '.join(others)}. The"
            f" profile samples wall-clock time; over its life the unit ran {profile['cpuSeconds'] / profile['wallSeconds']:.2f}"
            " cores, so time other processes on these 2 cores took from it shows up in whatever it was doing."
        )
    lines.append(
        f"- Transport is not the limit: the `count` consumer took {num(row['countPerSecond'])} of these 463 kB messages per"
        f" second ({1000 / row['countPerSecond']:.1f} ms each against {1000 / streaming:.1f} ms per GridRec message)."
    )
    lines.append("")
    if profile:
        lines += [*share_table(profile, profile["messages"]), "", f"Top functions: {top_functions(profile)}.", ""]
    summary = [
        (
            "Streaming GridRec, 1 slice per message",
            f"{num(streaming)} msg/s",
            f"{num(offline)} slices/s (offline `recon`, 1 thread)",
            ratio(r),
            f"≥ {GRIDREC_TARGET}×",
            verdict(met),
        )
    ]
    return lines, summary


def latency_section(row):
    lines = ["## 4. End-to-end latency MASS → Kafka → MASA at 100 msg/s", ""]
    if failed(row):
        return lines + [not_measured(row), ""], []
    whole = row["whole"] or {}
    steady = row["steady"] or {}
    peer = row["peer"]
    summary_latency = row["summary"]
    p50_met = steady.get("p50Ms", 1e9) <= P50_TARGET
    p99_met = steady.get("p99Ms", 1e9) <= P99_TARGET
    windows = row.get("windows") or []
    slow_windows = [w for w in windows if w["maxMs"] > P99_TARGET]
    lines += [
        f"`masa(pilot, {{topic, processor: 'count', fromBeginning: true, until: 'drained'}})` started first; once its"
        f" consumer reported and its group was Stable ({row['joinSeconds']:.1f} s after `masa()` returned), `mass(pilot,"
        f" {{source: {{kind: 'synthetic-bytes', size: {row['bytes']}}}, rate: {row['rate']}, duration: {row['seconds']},"
        " topic}})`. Latency is the consumer's clock when it has processed a message minus the producer's clock when it"
        " stamped it (one machine, one clock), from the consumers' reports. Waiting for the group means the first"
        " messages do not include the join; the first seconds still include the producer's first metadata request and"
        f" connection and both units' JIT warm-up, so the judged figures leave out the first {row['discardSeconds']} s of"
        " reports (the whole run is shown too).",
        "",
        "The peer: Kafka's own end-to-end latency tool (what `kafka-e2e-latency.sh` runs) on the same broker, acks=all,"
        f" {row['bytes']}-byte records, {peer['records']:,} of them, 1 partition (it allows no more): it sends one record,"
        " waits for the acknowledgement, polls until it has it back, and sends the next, so it measures the same"
        " produce → broker → consume path, one message in flight, as fast as it goes rather than at 100/s. It prints"
        " whole milliseconds (truncated): n means somewhere in [n, n + 1) ms.",
        "",
        "| | messages | p50 ms | p95 ms | p99 ms | p99.9 ms | max ms | mean ms |",
        "|---|---:|---:|---:|---:|---:|---:|---:|",
        f"| ours, after the first {row['discardSeconds']} s | {steady.get('count', 0):,} | {num(steady.get('p50Ms'), 2)} |"
        f" {num(steady.get('p95Ms'), 2)} | {num(steady.get('p99Ms'), 2)} | – | {num(steady.get('maxMs'), 1)} |"
        f" {num(steady.get('meanMs'), 2)} |",
        f"| ours, whole run (= the masa summary's `latencyMs`: {num(summary_latency['p50'], 2)} /"
        f" {num(summary_latency['p95'], 2)} / {num(summary_latency['p99'], 2)}) | {whole.get('count', 0):,} |"
        f" {num(whole.get('p50Ms'), 2)} | {num(whole.get('p95Ms'), 2)} | {num(whole.get('p99Ms'), 2)} | – |"
        f" {num(whole.get('maxMs'), 1)} | {num(whole.get('meanMs'), 2)} |",
        f"| Kafka EndToEndLatency | {peer['records']:,} | {peer['p50Ms']} | – | {peer['p99Ms']} | {peer['p999Ms']} | – |"
        f" {num(peer['averageMs'], 2)} |",
        "",
        f"Targets, after the first {row['discardSeconds']} s: p50 ≤ {P50_TARGET:g} ms {verdict(p50_met)}"
        f" ({num(steady.get('p50Ms'), 2)} ms); p99 ≤ {P99_TARGET:g} ms {verdict(p99_met)} ({num(steady.get('p99Ms'), 2)}"
        f" ms). Ours against Kafka's tool (its whole milliseconds n read as [n, n + 1)): p50"
        f" {ratio_range(steady.get('p50Ms'), peer['p50Ms'])}, p99 {ratio_range(steady.get('p99Ms'), peer['p99Ms'])}."
        f" {row['processed']:,} messages processed, {row['lost']} lost.",
        "",
    ]
    if windows:
        lines += latency_tail(row, windows, peer)
    summary = [
        (
            f"Latency p50, 100 msg/s (after {row['discardSeconds']} s)",
            f"{num(steady.get('p50Ms'), 2)} ms",
            f"[{peer['p50Ms']}, {peer['p50Ms'] + 1}) ms (Kafka EndToEndLatency)",
            ratio_range(steady.get("p50Ms"), peer["p50Ms"]),
            f"≤ {P50_TARGET:g} ms",
            verdict(p50_met),
        ),
        (
            f"Latency p99, 100 msg/s (after {row['discardSeconds']} s)",
            f"{num(steady.get('p99Ms'), 2)} ms",
            f"[{peer['p99Ms']}, {peer['p99Ms'] + 1}) ms (Kafka EndToEndLatency)",
            ratio_range(steady.get("p99Ms"), peer["p99Ms"]),
            f"≤ {P99_TARGET:g} ms",
            verdict(p99_met),
        ),
    ]
    return lines, summary


def our_cores(window):
    """Cores our producer, consumer and broker used over a report's second (None when not read)."""
    parts = [window.get(key) for key in ("producerCores", "consumerCores", "brokerCores")]
    if any(part is None for part in parts):
        return None
    return sum(parts)


def latency_tail(row, windows, peer):
    """Where the slow messages are, and how busy the machine was when they were."""
    total = sum(w["count"] for w in windows)
    slow = sum(w.get("over", 0) for w in windows)
    if slow == 0:
        return []
    ranked = sorted(windows, key=lambda w: -w.get("over", 0))
    worst = ranked[: max(1, len(windows) // 5)]
    in_worst = sum(w.get("over", 0) for w in worst)
    with_slow = [w for w in windows if w.get("over", 0) > 0 and w.get("machineCores") is not None]
    without = [w for w in windows if w.get("over", 0) == 0 and w.get("machineCores") is not None]
    with_slow = [w for w in with_slow if our_cores(w) is not None]
    without = [w for w in without if our_cores(w) is not None]

    def busy(ws):
        return median_of([w["machineCores"] for w in ws])

    def ours(ws):
        return median_of([our_cores(w) for w in ws])

    lines = [
        "### Where the tail comes from",
        "",
        f"{slow} of {total:,} messages ({slow / total:.1%}) took longer than {P99_TARGET:g} ms; they sit in"
        f" {len([w for w in windows if w.get('over', 0) > 0])} of the {len(windows)} consumer reports (about 1 s each),"
        f" and the worst fifth of the reports ({len(worst)}) hold {in_worst / slow:.0%} of them. The median report's p50"
        f" was {median_of([w['p50Ms'] for w in windows]):.2f} ms and its p99 {median_of([w['p99Ms'] for w in windows]):.2f} ms.",
    ]
    if with_slow and without:
        lines.append(
            f"In the seconds with slow messages the machine had a median {busy(with_slow):.2f} of its 2 cores busy, in"
            f" the others {busy(without):.2f}; our producer, consumer and broker together used {ours(with_slow):.2f} and"
            f" {ours(without):.2f} cores (medians over all reports: producer"
            f" {median_of([w.get('producerCores') for w in windows]):.2f}, consumer"
            f" {median_of([w.get('consumerCores') for w in windows]):.2f}, broker"
            f" {median_of([w.get('brokerCores') for w in windows]):.2f} cores for 100 messages/s). A message is late when"
            " the producer, the broker or the consumer is not on a CPU when it is due"
            + (
                f": the slow seconds are the busy ones, other processes than ours taking"
                f" {busy(with_slow) - ours(with_slow):.2f} cores in them against {busy(without) - ours(without):.2f} in the rest."
                if busy(with_slow) - ours(with_slow) > busy(without) - ours(without) + 0.1
                else "."
            )
        )
    cpu = peer.get("cpu") or {}
    lines += [
        f"Kafka's own tool, with nothing of ours in its path, shows a tail on the same broker too ({peer['p99Ms']} ms p99,"
        f" {peer['p999Ms']} ms p99.9, the machine {num(cpu.get('machineCores'), 2)} cores busy while it ran); the 1-minute"
        f" load average was {row['load']['start']:.1f} at the start of this row and {row['load']['end']:.1f} at its end.",
        "",
        "Per report (seconds since the first message; cores busy over that second):",
        "",
        "| s | messages | > 25 ms | p50 ms | p99 ms | max ms | machine busy cores | producer cores | consumer cores | broker cores |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for w in windows:
        lines.append(
            f"| {w['seconds']:.0f} | {w['count']} | {w.get('over', 0)} | {w['p50Ms']:.2f} | {w['p99Ms']:.2f} |"
            f" {w['maxMs']:.1f} | {num(w.get('machineCores'), 2)} | {num(w.get('producerCores'), 2)} |"
            f" {num(w.get('consumerCores'), 2)} | {num(w.get('brokerCores'), 2)} |"
        )
    return lines + [""]


def scaling_section(row):
    lines = ["## 5. Scaling: KMeans consumers on 1, 2, 3 testbed nodes", ""]
    if failed(row):
        return lines + [not_measured(row), ""], []
    steps = row["steps"]
    base = steps[0]["perSecond"]
    lines += [
        f"A {row['nodes']}-node Kafka pilot on the SLURM testbed (`slurm+ssh://`: sshd on loopback, slurmd per network"
        f" namespace, one broker per node; start-up {row['pilotStartSeconds']:.0f} s). The topic"
        f" ({row['partitions']} partitions) is filled first by `mass(cluster, unlimited, {row['messages']:,} messages,"
        f" producers: {row['producers']})` ({num(row['producedPerSecond'], 0)} msg/s; producers on"
        f" {', '.join(row['producerNodes'])}), then drained by `masa(kmeans, consumers: N, until: 'drained')`, a fresh"
        " group each time; the agents place each consumer on the least-loaded node. Steady-state processed msg/s from"
        " the records' windows. **The testbed's nodes are network namespaces of this one 2-core machine**: three nodes"
        " have 2 cores between them, shared with the three brokers.",
        "",
        "| consumers | on nodes | msg/s | vs 1 consumer | ideal | consumer cores | broker cores | machine busy cores | load |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for step in steps:
        cpu = step.get("cpu") or {}
        lines.append(
            f"| {step['consumers']} | {', '.join(step['nodes'])} | {num(step['perSecond'], 0)} |"
            f" {ratio(step['perSecond'] / base)} | {step['consumers']}.00× | {num(cores(cpu, 'consumers'), 2)} |"
            f" {num(cores(cpu, 'brokers'), 2)} | {num(cpu.get('machineCores'), 2)} | {step['load']:.1f} |"
        )
    best = max(steps, key=lambda step: step["perSecond"])
    lines += [
        "",
        f"Where the time goes: the best rate, {num(best['perSecond'], 0)} msg/s with {best['consumers']}"
        f" consumer{'s' if best['consumers'] > 1 else ''}, is"
        f" {best['perSecond'] / base:.2f}× one consumer's. The cores are the limit, not the placement (each consumer"
        " went to a node of its own) nor the partitions: "
        + "; ".join(
            f"with {step['consumers']} consumer{'s' if step['consumers'] > 1 else ''}, they used"
            f" {num(cores(step.get('cpu'), 'consumers'), 2)} cores, the"
            f" brokers {num(cores(step.get('cpu'), 'brokers'), 2)}, and the machine was"
            f" {num((step.get('cpu') or {}).get('machineCores'), 2)} of 2 cores busy"
            for step in steps
        )
        + ". Whatever the consumers and brokers do not use, other users' processes on the machine did. On real nodes"
        " each consumer brings its own cores; here the row shows that the run spreads its consumers over the nodes"
        " and how the rate behaves when they share 2 cores, not how far the Mini-Apps scale.",
        "",
    ]
    summary = [
        (
            f"Scaling, KMeans consumers on {', '.join(str(s['consumers']) for s in steps)} testbed nodes",
            " / ".join(f"{num(s['perSecond'], 0)}" for s in steps) + " msg/s",
            f"{num(base, 0)} msg/s (1 consumer)",
            " / ".join(ratio(s["perSecond"] / base) for s in steps),
            "– (ideal 1×/2×/3×)",
            "– (one 2-core machine)",
        )
    ]
    return lines, summary


def not_measured(row):
    if row is None:
        return "Not measured in this run (`MINIAPPS_BENCH_ROWS` left it out)."
    return f"The row failed: {row.get('error', 'no error recorded')}"


# ---- plot ----


def plot(results, png_path):
    rows = results["rows"]
    figure, axes = plt.subplots(2, 3, figsize=(15, 8.5))
    axes = axes.flatten()

    def empty(axis, title):
        axis.set_title(title, fontsize=10)
        axis.text(0.5, 0.5, "not measured", ha="center", va="center", transform=axis.transAxes)
        axis.set_xticks([])
        axis.set_yticks([])

    def bars(axis, labels, values, colours, title, unit):
        positions = range(len(values))
        axis.bar(positions, values, 0.6, color=colours)
        for position, value in zip(positions, values):
            axis.text(position, value, label_of(value), ha="center", va="bottom", fontsize=8)
        axis.set_xticks(list(positions))
        axis.set_xticklabels(labels, rotation=25, ha="right", fontsize=8)
        axis.set_title(title, fontsize=10)
        axis.set_ylabel(unit, fontsize=8)
        axis.set_ylim(0, max(values) * 1.2 if values else 1)

    row = rows.get("producer")
    if failed(row):
        empty(axes[0], "1. MASS producer")
    else:
        labels, values, colours = [], [], []
        for case in row["cases"]:
            labels += [f"ours {size_label(case['size'])}", f"perf test {size_label(case['size'])}"]
            values += [case["ours"]["steadyMBps"], case["peer"]["steadyMBps"]]
            colours += [OURS, PEER]
        bars(axes[0], labels, values, colours, "1. Producer, steady state (target ours ≥ 0.7× perf test)", "MB/s")

    row = rows.get("kmeans")
    if failed(row):
        empty(axes[1], "2. KMeans")
    else:
        peers = row["peer"]["perSecond"]
        labels = ["ours in-process", *[f"NumPy {name}" for name in peers], "ours via Kafka, 1 consumer"]
        values = [row["ours"]["trainAndPredict"], *peers.values(), row["pipeline"]["kmeansPerSecond"]]
        bars(axes[1], labels, values, [OURS, *[PEER] * len(peers), OURS], "2. KMeans, one core (target ≥ 2,000)", "messages/s")
        axes[1].axhline(KMEANS_TARGET, color=OTHER, linestyle="--", linewidth=0.8)

    row = rows.get("gridrec")
    if failed(row):
        empty(axes[2], "3. GridRec")
    else:
        bars(
            axes[2],
            ["offline recon (pairs)", "one slice at a time", "streaming, 1 consumer"],
            [row["offlinePerSecond"], row["singlePerSecond"], row["streamingPerSecond"]],
            [PEER, OTHER, OURS],
            "3. GridRec, one core (target streaming ≥ 0.9× offline)",
            "slices/s",
        )
        axes[2].axhline(GRIDREC_TARGET * row["offlinePerSecond"], color=OTHER, linestyle="--", linewidth=0.8)

    row = rows.get("latency")
    if failed(row):
        empty(axes[3], "4. Latency")
    else:
        axis = axes[3]
        steady = row["steady"] or {}
        peer = row["peer"]
        labels = ["p50", "p99"]
        ours_values = [steady.get("p50Ms", 0), steady.get("p99Ms", 0)]
        peer_values = [peer["p50Ms"], peer["p99Ms"]]
        positions = range(len(labels))
        axis.bar([p - 0.2 for p in positions], ours_values, 0.4, color=OURS, label="ours, 100 msg/s")
        axis.bar([p + 0.2 for p in positions], peer_values, 0.4, color=PEER, label="Kafka EndToEndLatency")
        for p, (a, b) in enumerate(zip(ours_values, peer_values)):
            axis.text(p - 0.2, a, f"{a:.3g}", ha="center", va="bottom", fontsize=8)
            axis.text(p + 0.2, b, f"{b:.3g}", ha="center", va="bottom", fontsize=8)
        for target in (P50_TARGET, P99_TARGET):
            axis.axhline(target, color=OTHER, linestyle="--", linewidth=0.8)
        axis.set_xticks(list(positions))
        axis.set_xticklabels(labels)
        axis.set_ylabel("ms", fontsize=8)
        axis.set_title("4. End-to-end latency (targets p50 ≤ 5, p99 ≤ 25 ms)", fontsize=10)
        axis.legend(fontsize=8)

    row = rows.get("scaling")
    if failed(row):
        empty(axes[4], "5. Scaling")
    else:
        axis = axes[4]
        steps = row["steps"]
        consumers = [s["consumers"] for s in steps]
        values = [s["perSecond"] for s in steps]
        axis.plot(consumers, values, "o-", color=OURS, label="measured")
        axis.plot(consumers, [values[0] * c for c in consumers], "--", color=OTHER, label="ideal")
        axis.set_xticks(consumers)
        axis.set_xlabel("KMeans consumers (one per testbed node)", fontsize=8)
        axis.set_ylabel("messages/s", fontsize=8)
        axis.set_ylim(0, values[0] * len(consumers) * 1.1)
        axis.set_title("5. Scaling on the testbed (one 2-core machine)", fontsize=10)
        axis.legend(fontsize=8)

    row = rows.get("producer")
    axis = axes[5]
    if failed(row):
        empty(axis, "Producer windows")
    else:
        case = row["cases"][-1]
        for run in case["runs"]:
            colour = OURS if run["who"] == "ours" else PEER
            axis.plot(range(1, len(run["series"]) + 1), run["series"], color=colour, alpha=0.8)
        axis.plot([], [], color=OURS, label="ours")
        axis.plot([], [], color=PEER, label="perf test")
        axis.set_xlabel("second of the run", fontsize=8)
        axis.set_ylabel("MB/s", fontsize=8)
        axis.set_title(f"{size_label(case['size'])} producer runs, 1 s windows", fontsize=10)
        axis.legend(fontsize=8)

    machine = results.get("machine") or {}
    figure.suptitle(
        f"Streaming Mini-Apps, {machine.get('cpus', '?')}-core {machine.get('cpuModel', '')},"
        f" {results['date'][:10]}",
        fontsize=11,
    )
    figure.tight_layout()
    figure.savefig(png_path, dpi=100)


# ---- document ----


def main():
    results_path, markdown_path, png_path = sys.argv[1:4]
    with open(results_path) as file:
        results = json.load(file)
    machine = results.get("machine") or {}
    load = machine.get("loadAverage") or {}
    rows = results.get("rows") or {}
    sections = []
    summary = []
    for name, build in (
        ("producer", producer_section),
        ("kmeans", kmeans_section),
        ("gridrec", gridrec_section),
        ("latency", latency_section),
        ("scaling", scaling_section),
    ):
        lines, entries = build(rows.get(name))
        sections += lines
        summary += entries
    lines = [
        "# Streaming Mini-Apps benchmark",
        "",
        f"Measured {results['date']} on {machine.get('cpus', '?')} cores ({machine.get('cpuModel', 'unknown CPU')}),"
        f" Node {machine.get('node', '?')}, Kafka {machine.get('kafka', '?')}, by one run of `npm run bench miniapps`."
        " Rows 1–4 use one `fork://localhost` Kafka pilot (one broker) on this machine, row 5 a 3-node pilot on the"
        " SLURM testbed. Every ratio compares figures measured side by side in this run on this machine; the"
        " benchmark asserts nothing about speed. The machine is shared with other users' tests (1-minute load average"
        f" {num(load.get('start'), 2)} at the start, {num(load.get('end'), 2)} at the end, on 2 cores), so single"
        " figures move by tens of percent from run to run; each row lists the load it ran under.",
        "",
        "| row | ours | peer | ours / peer | target | |",
        "|---|---:|---|---:|---|---|",
    ]
    for entry in summary:
        lines.append("| " + " | ".join(entry) + " |")
    lines += ["", *sections]
    lines += notes()
    lines += ["", f"![Streaming Mini-Apps benchmark]({os.path.basename(png_path)})", ""]
    with open(markdown_path, "w") as file:
        file.write("\n".join(lines))
    plot(results, png_path)


def notes():
    return [
        "## Notes on the library",
        "",
        "- kafkajs' consumer fetches the next batch only after the current one has been processed"
        " (`kafkajs/src/consumer/fetcher.js`), so a MASA consumer waits for every fetch round trip (row 2's profile).",
        "- kafkajs' `admin.createTopics({waitForLeaders: true})` can reject with \"This server does not host this"
        " topic-partition\" when its metadata request reaches the broker before the new topic does; the benchmark"
        " and `lib/src/miniapps/runs/topics.ts` poll for leaders themselves.",
        "- kafkajs computes CRC-32C in JavaScript and copies each message several times while building a request"
        " (`kafkajs/src/protocol/recordBatch/crc32C`, `protocol/encoder.js`): most of our producer's CPU time for"
        " large messages.",
    ]


if __name__ == "__main__":
    main()
