"""Times the CPU peers of our reconstruction library on one block of sinograms, each on one core.

usage: peers.py SINOGRAMS.npy ANGLES.npy CENTER OUT.json [--repeats N] [--mlem-iterations K] [--mlem-slices S]
                [--mlem-projectors linear,line] [--cpu C]

SINOGRAMS.npy  float32 (slices, angles, pixels), already normalised and -log'd
ANGLES.npy     projection angles in radians, one per sinogram row
CENTER         rotation axis in TomoPy's convention: the detector coordinate in which sample j
               (0-based) sits at j, so (pixels - 1) / 2 is the geometric middle and TomoPy's
               default pixels / 2 is half a sample right of it. Checked against TomoPy's own test output
               (shared/data/tomopy-reference/gridrec_ramlak.npy): centre 24 on its 48-pixel detector
               reproduces it (r 0.984 with ASTRA), 23.5 or 24.5 do not (r 0.83).

Peers (pip install -r lib/bench/recon/requirements.txt):
  gridrec  midas-tomo's C gridrec, in-process (backend_lib.run_arrays), Shepp-Logan filter (TomoPy's
           default filter for gridrec)
  fbp      ASTRA's CPU FBP algorithm (ram-lak) with each of the line, linear and strip projectors;
           algotom's numpy/numba FBP (fbp_reconstruction, gpu=False, ramp filter)
  mlem     x <- x * A^T(y / A x) / A^T 1 (y clipped at 0, x0 = ones), A and A^T ASTRA's CPU FP and
           BP algorithms on arrays linked into ASTRA (no copies), with the linear projector (and any
           others named by --mlem-projectors; an empty list skips ML-EM)

Every peer runs on one core: the thread variables are set before numpy is imported, the process is
pinned to one CPU before any library starts a thread, and each library's own thread option is 1
(midas n_cpus=1, algotom ncore=1 and NUMBA_NUM_THREADS=1; ASTRA's CPU code has no OpenMP). A run is
one pass over the whole block; one warm-up pass, then --repeats timed passes (time.perf_counter).
Reported: slices/s from the median pass and from the fastest pass; for ML-EM, seconds per iteration
per slice likewise (A^T 1 is computed once, before the timed passes; the warm-up pass runs one
iteration).

Images: each peer's reconstruction of slice 0 is saved next to OUT.json as float32 .npy on TomoPy
gridrec's grid, pixels x pixels, pixel (row, col) at x = col - pixels/2, y = pixels/2 - 1 - row, and
detector sample j at j - CENTER = x cos(theta) + y sin(theta). Each peer is brought to that grid
(documented per peer, outside the timed region) and checked on an asymmetric phantom; odd widths are
not aligned exactly. Images are not masked; compare inside the inscribed circle.

OUT.json: see the "peers" key of RESULTS.json in report.py.
"""

import argparse
import os
import sys

THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS", "NUMBA_NUM_THREADS")
for _name in THREAD_VARIABLES:
    os.environ[_name] = "1"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("sinograms")
    parser.add_argument("angles")
    parser.add_argument("center", type=float)
    parser.add_argument("out")
    parser.add_argument("--repeats", type=int, default=5, help="timed passes per peer (default 5)")
    parser.add_argument("--mlem-iterations", type=int, default=5, help="ML-EM iterations per pass (default 5)")
    parser.add_argument(
        "--mlem-slices", type=int, default=2, help="slices of the block ML-EM reconstructs (default 2; it is slow)"
    )
    parser.add_argument(
        "--mlem-projectors",
        default="linear",
        help="ASTRA projectors to loop ML-EM with, comma-separated (default linear; '' skips ML-EM)",
    )
    parser.add_argument("--cpu", type=int, default=None, help="CPU to pin to (default: the highest allowed)")
    args = parser.parse_args()
    if args.repeats < 1 or args.mlem_iterations < 1 or args.mlem_slices < 1:
        parser.error("--repeats, --mlem-iterations and --mlem-slices must be at least 1")
    args.mlem_projectors = [name.strip() for name in args.mlem_projectors.split(",") if name.strip()]
    unknown = set(args.mlem_projectors) - {"line", "linear", "strip"}
    if unknown:
        parser.error(f"--mlem-projectors: unknown {sorted(unknown)}; ASTRA's 2-D CPU ones are line, linear, strip")
    return args


ARGS = parse_args()
ALLOWED_CPUS = sorted(os.sched_getaffinity(0))
CPU = ALLOWED_CPUS[-1] if ARGS.cpu is None else ARGS.cpu
if CPU not in ALLOWED_CPUS:
    sys.exit(f"peers.py: --cpu {CPU} is not one this process may run on ({ALLOWED_CPUS})")
# Before numpy and the peers load: threads started later inherit the mask.
os.sched_setaffinity(0, {CPU})

import contextlib  # noqa: E402
import ctypes  # noqa: E402
import json  # noqa: E402
import platform  # noqa: E402
import shutil  # noqa: E402
import statistics  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from importlib import metadata  # noqa: E402

REQUIREMENTS = "pip install -r lib/bench/recon/requirements.txt into the venv (npm run bench recon does)"
try:
    import astra
    import numpy as np
    from algotom.rec import reconstruction as algotom_rec
    from midas_tomo import backend_lib as midas_lib
    from midas_tomo.config import FILTERS as MIDAS_FILTERS
    from midas_tomo.config import TomoConfig
    from scipy import ndimage
except ImportError as error:
    sys.exit(f"peers.py: a peer failed to import ({error}); {REQUIREMENTS}")
if not midas_lib.available():
    sys.exit(f"peers.py: midas-tomo's library is unavailable: {midas_lib.why_unavailable()}")

LIBC = ctypes.CDLL(None)
MIDAS_FILTER = 1  # Shepp-Logan, TomoPy's default gridrec filter
ASTRA_FBP_PROJECTORS = ("line", "linear", "strip")


def version(package):
    try:
        return metadata.version(package)
    except metadata.PackageNotFoundError:
        return "unknown"


@contextlib.contextmanager
def quiet_stdout():
    """midas prints a configuration summary from C on every call: send fd 1 to /dev/null meanwhile."""
    sys.stdout.flush()
    saved = os.dup(1)
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, 1)
    try:
        yield
    finally:
        LIBC.fflush(None)  # what C buffered goes to /dev/null too, not to our stdout later
        os.dup2(saved, 1)
        os.close(saved)
        os.close(devnull)


def thread_report():
    """Threads of this process and the CPUs each may use (all must be the one pinned CPU)."""
    tids = [int(tid) for tid in os.listdir("/proc/self/task")]
    masks = set()
    for tid in tids:
        try:
            masks.add(tuple(sorted(os.sched_getaffinity(tid))))
        except OSError:  # ended meanwhile
            pass
    return {"threads": len(tids), "affinities": [list(mask) for mask in sorted(masks)]}


def timed(run_pass, repeats):
    """One warm-up pass, then `repeats` timed ones; returns the seconds of each timed pass."""
    run_pass()
    seconds = []
    for _ in range(repeats):
        started = time.perf_counter()
        run_pass()
        seconds.append(time.perf_counter() - started)
    return seconds


def throughput(seconds, slices):
    return {
        "slicesPerSecond": slices / statistics.median(seconds),
        "bestSlicesPerSecond": slices / min(seconds),
        "seconds": seconds,
    }


# ---------------------------------------------------------------- midas-tomo gridrec
def midas_gridrec(sinograms, angles, center, work, repeats):
    slices, _, pixels = sinograms.shape
    # The engine reconstructs slices in pairs: an odd block gets its last slice twice (as
    # midas_tomo.api does), which counts against midas; the figure is per requested slice.
    block = sinograms if slices % 2 == 0 else np.concatenate([sinograms, sinograms[-1:]])
    block = np.ascontiguousarray(block, dtype=np.float32)
    thetas = os.path.join(work, "midas-thetas.txt")
    np.savetxt(thetas, np.rad2deg(np.asarray(angles, dtype=np.float64)))
    # midas puts the axis at detector column pixels/2 - shift, columns counted as TomoPy does.
    shift = pixels / 2 - center
    config = TomoConfig(
        data_file=os.path.join(work, "midas-unused.bin"),  # input comes from memory
        recon_file=os.path.join(work, "midas-out"),
        are_sinos=True,
        det_xdim=pixels,
        det_ydim=block.shape[0],
        theta_file=thetas,
        filter_nr=MIDAS_FILTER,
        shift_values=(shift, shift, 1.0),
        do_log=False,
        auto_centering=False,  # keeps the axis at a fixed output pixel whatever the shift
    )
    parameters = config.to_param_file(os.path.join(work, "midas.par"))
    size = config.recon_xdim
    shape = (config.n_shifts, block.shape[0], size, size)
    result = {}

    def run_pass():
        with quiet_stdout():
            result["cube"] = midas_lib.run_arrays(parameters, block, shape, 1, cwd=work)

    seconds = timed(run_pass, repeats)
    # Output: size x size (next power of two), axis at (size/2 - 1, size/2 - 1), rotated a quarter
    # turn from TomoPy's orientation. Rotate, then cut TomoPy's pixels x pixels grid around the axis.
    turned = np.rot90(result["cube"][0, 0], 1)
    row0 = size // 2 - pixels // 2 + 1
    col0 = size // 2 - 1 - pixels // 2
    padded = np.pad(turned, 1)
    image = padded[row0 + 1 : row0 + 1 + pixels, col0 + 1 : col0 + 1 + pixels]
    return {
        "kind": "gridrec",
        "label": "midas-tomo gridrec",
        "package": f"midas-tomo {version('midas-tomo')}",
        "settings": {
            "filter": f"{MIDAS_FILTERS[MIDAS_FILTER]} (filter {MIDAS_FILTER})",
            "nCpus": 1,
            "fftEngine": midas_lib.DEFAULT_FFT_ENGINE,
            "shift": shift,
            "outputSize": size,
        },
        "api": (
            "midas_tomo.backend_lib.run_arrays(param_file, sinos, (1, slices, X, X), n_cpus=1) with "
            "TomoConfig(are_sinos=True, filter_nr=1, shift_values=(pixels/2 - center,)*2 + (1,), "
            "do_log=False, auto_centering=False)"
        ),
        "notes": [
            f"reconstructs a {size} x {size} image (detector padded to a power of two) and is cut to "
            f"{pixels} x {pixels} afterwards; odd blocks are padded to an even slice count",
            "rotated a quarter turn (np.rot90) to TomoPy's orientation outside the timed region",
            "each call pays a fixed set-up (parameter file, tables, buffers) before its slices, so a "
            "block of only a few slices understates its throughput",
        ],
        **throughput(seconds, slices),
    }, image


# ---------------------------------------------------------------- ASTRA
def tomopy_grid(pixels):
    """ASTRA volume whose pixel (row, col) sits at x = col - pixels/2, y = pixels/2 - 1 - row."""
    return astra.create_vol_geom(
        pixels, pixels, -pixels / 2 - 0.5, pixels / 2 - 0.5, -pixels / 2 - 0.5, pixels / 2 - 0.5
    )


def centring(pixels, center):
    """How to put the axis in the middle of ASTRA's detector (its FBP takes only 'parallel').

    Returns (left, right, fraction): pad `left` and `right` zero samples after resampling each row
    at j + fraction (linear interpolation; fraction is 0 when 2 * center is whole, the usual case).
    """
    excess = 2 * center + 1 - pixels  # right pad - left pad, in samples
    whole = int(np.round(excess))
    fraction = (excess - whole) / 2
    return max(-whole, 0), max(whole, 0), fraction if abs(fraction) > 1e-6 else 0.0


def astra_fbp(sinograms, angles, center, projector, repeats):
    slices, _, pixels = sinograms.shape
    left, right, fraction = centring(pixels, center)
    width = pixels + left + right
    volume = tomopy_grid(pixels)
    geometry = astra.create_proj_geom("parallel", 1.0, width, np.asarray(angles, dtype=np.float64))
    projector_id = astra.create_projector(projector, geometry, volume)
    padded = np.zeros((sinograms.shape[1], width), dtype=np.float32)
    image = np.zeros((pixels, pixels), dtype=np.float32)
    sinogram_id = astra.data2d.link("-sino", geometry, padded)
    image_id = astra.data2d.link("-vol", volume, image)
    config = astra.astra_dict("FBP")
    config.update(ProjectorId=projector_id, ProjectionDataId=sinogram_id, ReconstructionDataId=image_id)
    config["option"] = {"FilterType": "ram-lak"}
    algorithm_id = astra.algorithm.create(config)
    samples = np.arange(pixels, dtype=np.float64)
    images = np.zeros((slices, pixels, pixels), dtype=np.float32)

    def run_pass():
        for index in range(slices):
            sinogram = sinograms[index]
            if fraction:
                sinogram = np.stack([np.interp(samples + fraction, samples, row, left=0, right=0) for row in sinogram])
            padded[:, left : left + pixels] = sinogram
            astra.algorithm.run(algorithm_id)
            images[index] = image

    try:
        seconds = timed(run_pass, repeats)
    finally:
        astra.algorithm.delete(algorithm_id)
        astra.data2d.delete([sinogram_id, image_id])
        astra.projector.delete(projector_id)
    notes = [
        f"ASTRA's FBP accepts only 'parallel' geometry, whose axis is the detector's middle: each "
        f"sinogram is copied into a {width}-sample row with {left} zero sample(s) left and {right} right "
        f"(inside the timed region)",
        "volume geometry placed on TomoPy's grid, so the image needs no resampling",
    ]
    if fraction:
        notes.append(f"the centre is not a half-sample multiple: rows resampled at j {fraction:+.3f} (linear)")
    return {
        "kind": "fbp",
        "label": f"ASTRA FBP ({projector})",
        "package": f"astra-toolbox {version('astra-toolbox')}",
        "settings": {"projector": projector, "filter": "ram-lak", "detectorWidth": width},
        "api": (
            f"astra.create_projector('{projector}', create_proj_geom('parallel', 1.0, {width}, angles), "
            "vol_geom); algorithm 'FBP' with option FilterType='ram-lak' on astra.data2d.link'ed arrays, "
            "astra.algorithm.run per slice"
        ),
        "notes": notes,
        **throughput(seconds, slices),
    }, images[0].copy()


def astra_mlem(sinograms, angles, center, projector, iterations, repeats):
    slices, count, pixels = sinograms.shape
    angles = np.asarray(angles, dtype=np.float64)
    # parallel_vec: the detector's middle moved so that sample `center` lies on the axis; exact for
    # any centre, and the CPU projectors accept it (the FBP algorithm does not).
    direction = np.stack([np.cos(angles), np.sin(angles)], axis=1)
    ray = np.stack([-np.sin(angles), np.cos(angles)], axis=1)
    middle = ((pixels - 1) / 2 - center) * direction
    geometry = astra.create_proj_geom("parallel_vec", pixels, np.hstack([ray, middle, direction]))
    volume = tomopy_grid(pixels)
    projector_id = astra.create_projector(projector, geometry, volume)
    x = np.ones((pixels, pixels), dtype=np.float32)
    back = np.zeros((pixels, pixels), dtype=np.float32)
    forward = np.zeros((count, pixels), dtype=np.float32)
    x_id = astra.data2d.link("-vol", volume, x)
    back_id = astra.data2d.link("-vol", volume, back)
    forward_id = astra.data2d.link("-sino", geometry, forward)
    fp = astra.astra_dict("FP")
    fp.update(ProjectorId=projector_id, VolumeDataId=x_id, ProjectionDataId=forward_id)
    fp_id = astra.algorithm.create(fp)
    bp = astra.astra_dict("BP")
    bp.update(ProjectorId=projector_id, ProjectionDataId=forward_id, ReconstructionDataId=back_id)
    bp_id = astra.algorithm.create(bp)
    measured = np.clip(sinograms, 0, None).astype(np.float32)
    images = np.zeros((slices, pixels, pixels), dtype=np.float32)
    # A^T 1, once per geometry (outside the timed passes); 0 where no ray reaches a pixel.
    forward[:] = 1
    astra.algorithm.run(bp_id)
    inverse_norm = np.zeros_like(back)
    np.divide(1, back, out=inverse_norm, where=back > 0)

    def run_pass(iterations):
        for index in range(slices):
            y = measured[index]
            x[:] = 1
            for _ in range(iterations):
                astra.algorithm.run(fp_id)  # forward = A x (>= 0; 0 where a ray misses the image)
                np.divide(y, forward, out=forward, where=forward > 0)
                astra.algorithm.run(bp_id)  # back = A^T (y / A x)
                np.multiply(back, inverse_norm, out=back)
                np.multiply(x, back, out=x)
            images[index] = x

    try:
        run_pass(1)  # warm-up
        seconds = []
        for _ in range(repeats):
            started = time.perf_counter()
            run_pass(iterations)
            seconds.append(time.perf_counter() - started)
    finally:
        astra.algorithm.delete([fp_id, bp_id])
        astra.data2d.delete([x_id, back_id, forward_id])
        astra.projector.delete(projector_id)
    per = [value / (iterations * slices) for value in seconds]
    return {
        "kind": "mlem",
        "label": f"ASTRA FP/BP loop ({projector})",
        "package": f"astra-toolbox {version('astra-toolbox')}",
        "settings": {"projector": projector, "iterations": iterations, "geometry": "parallel_vec"},
        "api": (
            f"astra.create_projector('{projector}', parallel_vec geometry, vol_geom); algorithms 'FP' "
            "(VolumeDataId -> ProjectionDataId) and 'BP' (ProjectionDataId -> ReconstructionDataId) on "
            "astra.data2d.link'ed numpy arrays, astra.algorithm.run twice per iteration, numpy for the rest"
        ),
        "notes": [
            "A^T 1 computed once before the timed passes; y clipped at 0, x0 = 1, the ratio 0 where "
            "A x = 0 and the update 0 where A^T 1 = 0; ratio and update computed in place",
        ],
        "secondsPerIterationPerSlice": statistics.median(per),
        "bestSecondsPerIterationPerSlice": min(per),
        "seconds": seconds,
    }, images[0].copy()


# ---------------------------------------------------------------- algotom
def algotom_fbp(sinograms, angles, center, repeats):
    slices = sinograms.shape[0]
    angles = np.asarray(angles, dtype=np.float32)
    # algotom wants (angles, slices, pixels); a transposed view, no copy.
    block = sinograms.transpose(1, 0, 2)
    result = {}

    def run_pass():
        result["recon"] = algotom_rec.fbp_reconstruction(
            block, center, angles=angles, ratio=None, filter_name=None, apply_log=False, gpu=False, ncore=1
        )

    seconds = timed(run_pass, repeats)
    # algotom's pixel (row, col) is at x = col - (pixels-1)/2, y = (pixels-1)/2 - row (its centre
    # convention is TomoPy's): half a pixel from TomoPy's grid in each direction. Resampled (cubic
    # spline) outside the timed region.
    image = ndimage.shift(result["recon"][:, 0, :], (-0.5, 0.5), order=3, mode="nearest")
    return {
        "kind": "fbp",
        "label": "algotom FBP",
        "package": f"algotom {version('algotom')}",
        "settings": {"filter": "ramp (filter_name=None)", "ncore": 1, "gpu": False, "pad": "default (15%, edge)"},
        "api": (
            "algotom.rec.reconstruction.fbp_reconstruction(sinograms (angles, slices, pixels), center, "
            "angles=radians, ratio=None, filter_name=None, apply_log=False, gpu=False, ncore=1)"
        ),
        "notes": [
            "back-projection is numba @jit(parallel=True); NUMBA_NUM_THREADS=1 and the CPU pin keep it on one core",
            "image resampled by half a pixel to TomoPy's grid outside the timed region",
        ],
        **throughput(seconds, slices),
    }, image.astype(np.float32)


# ---------------------------------------------------------------- main
def inscribed(pixels):
    row, col = np.mgrid[0:pixels, 0:pixels]
    return (col - pixels / 2) ** 2 + (pixels / 2 - 1 - row) ** 2 <= (pixels / 2 - 2) ** 2


def main():
    sinograms = np.load(ARGS.sinograms)
    angles = np.load(ARGS.angles)
    if sinograms.ndim != 3:
        sys.exit(f"peers.py: {ARGS.sinograms} must be (slices, angles, pixels); it is {sinograms.shape}")
    sinograms = np.ascontiguousarray(sinograms, dtype=np.float32)
    slices, count, pixels = sinograms.shape
    if angles.shape != (count,):
        sys.exit(f"peers.py: {ARGS.angles} has shape {angles.shape}; the sinograms have {count} angles")
    if not 0 <= ARGS.center < pixels:
        sys.exit(f"peers.py: CENTER {ARGS.center} is outside the detector (0 to {pixels - 1})")
    out = os.path.abspath(ARGS.out)
    stem = os.path.splitext(out)[0]
    os.makedirs(os.path.dirname(out), exist_ok=True)
    work = tempfile.mkdtemp(prefix="recon-peers-")
    runs = []
    try:
        runs.append(("midas-gridrec", lambda: midas_gridrec(sinograms, angles, ARGS.center, work, ARGS.repeats)))
        for projector in ASTRA_FBP_PROJECTORS:
            runs.append(
                (
                    f"astra-fbp-{projector}",
                    lambda p=projector: astra_fbp(sinograms, angles, ARGS.center, p, ARGS.repeats),
                )
            )
        runs.append(("algotom-fbp", lambda: algotom_fbp(sinograms, angles, ARGS.center, ARGS.repeats)))
        for projector in ARGS.mlem_projectors:
            runs.append(
                (
                    f"astra-mlem-{projector}",
                    lambda p=projector: astra_mlem(
                        sinograms[: ARGS.mlem_slices], angles, ARGS.center, p, ARGS.mlem_iterations, ARGS.repeats
                    ),
                )
            )
        peers = {}
        images = {}
        for name, run in runs:
            entry, image = run()
            entry["threadsAfter"] = thread_report()
            path = f"{stem}-{name}-slice0.npy"
            np.save(path, np.ascontiguousarray(image, dtype=np.float32))
            entry["image"] = path
            peers[name] = entry
            images[name] = image
            if entry["kind"] == "mlem":
                print(f"{entry['label']}: {entry['secondsPerIterationPerSlice']:.4f} s/iteration/slice", flush=True)
            else:
                print(f"{entry['label']}: {entry['slicesPerSecond']:.2f} slices/s", flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    # The peers must agree on the tooth before their speed means anything: each image against ASTRA
    # FBP (linear), and that one against midas, inside the inscribed circle.
    mask = inscribed(pixels)
    agreement = {}
    for name, image in images.items():
        reference = "astra-fbp-linear" if name != "astra-fbp-linear" else "midas-gridrec"
        r = float(np.corrcoef(image[mask], images[reference][mask])[0, 1])
        agreement[name] = {"against": reference, "r": r}

    result = {
        "tool": "lib/bench/recon/peers.py",
        "python": platform.python_version(),
        "numpy": np.__version__,
        "cpu": CPU,
        "threadVariables": {name: os.environ[name] for name in THREAD_VARIABLES},
        "input": {
            "slices": slices,
            "angles": count,
            "pixels": pixels,
            "center": ARGS.center,
            "repeats": ARGS.repeats,
            "mlemIterations": ARGS.mlem_iterations,
            "mlemSlices": min(ARGS.mlem_slices, slices),
        },
        "imageGrid": (
            "pixels x pixels, pixel (row, col) at x = col - pixels/2, y = pixels/2 - 1 - row; detector "
            "sample j at j - center = x cos(theta) + y sin(theta) (TomoPy gridrec's output grid)"
        ),
        "peers": peers,
        "agreement": agreement,
    }
    with open(out, "w") as file:
        json.dump(result, file, indent=2)
    print(f"peers.py: wrote {out}")


if __name__ == "__main__":
    main()
