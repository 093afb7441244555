"""The NumPy peer of the streaming-KMeans row of `npm run bench miniapps`: Spark MLlib's
StreamingKMeansModel.update, one mini-batch per message, on the messages kmeans-ours.mjs wrote.

usage: kmeans-peer.py DIR OUT_JSON --messages M --points P --k K --repeats R

DIR holds points.f64 (M × P × 3 float64) and centers.f64 (K × 3, the initial centres, weight 0).
Each message: assign every point to its nearest centre (labels, as trainAndPredict returns them),
per-centre counts and sums, then new centre = (c·w·decay + sum) / (w·decay + n), w += n, with
decay 1 and Spark's dying-cluster split; as ours does. Two ways of computing the distances are
timed, and the faster one is the peer:

- broadcast: ((x − c)²).sum over a points × k × 3 temporary, as the update rule reads;
- matmul: ‖x‖² − 2·x·cᵀ + ‖c‖² (one BLAS call), the usual fast NumPy form.

Run on one core (miniapps.run.ts starts it under taskset with OMP/OpenBLAS/MKL threads 1).
"""

import argparse
import json
import os
import platform
import sys
import time

import numpy as np

MIN_UPDATED_WEIGHT = 1e-16
DYING_RATIO = 1e-8
SPLIT_PERTURBATION = 1e-14


def labels_broadcast(points, centers):
    difference = points[:, None, :] - centers[None, :, :]
    return np.einsum("pkd,pkd->pk", difference, difference).argmin(axis=1)


def labels_matmul(points, centers):
    distances = (centers * centers).sum(axis=1)[None, :] - 2.0 * (points @ centers.T)
    # ‖x‖² is the same for every centre of a point: it does not change the argmin.
    return distances.argmin(axis=1)


def update(points, centers, weights, labels, decay=1.0):
    k, d = centers.shape
    counts = np.bincount(labels, minlength=k).astype(np.float64)
    sums = np.empty((k, d))
    for j in range(d):
        sums[:, j] = np.bincount(labels, weights=points[:, j], minlength=k)
    weights *= decay
    updated = weights + counts
    lam = counts / np.maximum(updated, MIN_UPDATED_WEIGHT)
    nonempty = counts > 0
    step = np.zeros(k)
    step[nonempty] = lam[nonempty] / counts[nonempty]
    new_centers = centers * (1.0 - lam)[:, None] + step[:, None] * sums
    centers[nonempty] = new_centers[nonempty]
    weights[nonempty] = updated[nonempty]
    largest, smallest = int(weights.argmax()), int(weights.argmin())
    if weights[smallest] < DYING_RATIO * weights[largest]:
        weight = (weights[largest] + weights[smallest]) / 2
        weights[largest] = weights[smallest] = weight
        x = centers[largest].copy()
        p = SPLIT_PERTURBATION * np.maximum(np.abs(x), 1.0)
        centers[largest] = x + p
        centers[smallest] = x - p


def one_pass(messages, initial, assign):
    centers = initial.copy()
    weights = np.zeros(len(initial))
    for points in messages:
        labels = assign(points, centers)
        update(points, centers, weights, labels)
    return centers, weights


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("dir")
    parser.add_argument("out")
    parser.add_argument("--messages", type=int, required=True)
    parser.add_argument("--points", type=int, required=True)
    parser.add_argument("--k", type=int, required=True)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    points = np.fromfile(os.path.join(args.dir, "points.f64"), dtype="<f8")
    messages = list(points.reshape(args.messages, args.points, 3))
    initial = np.fromfile(os.path.join(args.dir, "centers.f64"), dtype="<f8").reshape(args.k, 3)

    results = {}
    for name, assign in (("broadcast", labels_broadcast), ("matmul", labels_matmul)):
        centers, weights = one_pass(messages, initial, assign)  # warm-up, and the result compared
        rates = []
        for _ in range(args.repeats):
            start = time.perf_counter()
            one_pass(messages, initial, assign)
            rates.append(args.messages / (time.perf_counter() - start))
        results[name] = {
            "perSecond": sorted(rates)[len(rates) // 2],
            "all": rates,
            "finalCenters": centers.tolist(),
            "finalWeights": weights.tolist(),
        }
    with open(args.out, "w") as file:
        json.dump(
            {
                "python": platform.python_version(),
                "numpy": np.__version__,
                "affinity": sorted(os.sched_getaffinity(0)),
                "threadVariables": {
                    key: os.environ.get(key)
                    for key in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")
                },
                "peers": results,
            },
            file,
            indent=2,
        )
    print(
        "kmeans numpy: "
        + ", ".join(f"{name} {entry['perSecond']:.0f} msg/s" for name, entry in results.items()),
        file=sys.stdout,
    )


if __name__ == "__main__":
    main()
