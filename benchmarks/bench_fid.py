"""Fréchet distance at d=2048: ``metrics.frechet_distance`` vs the scipy ``sqrtm`` reference.

The reference is the computation of TTUR and pytorch-fid (``scipy.linalg.sqrtm`` of the
non-symmetric product sigma1 @ sigma2, a complex Schur decomposition). Ours takes a Cholesky
factor and one symmetric eigenvalue solve. Both get the same random well-conditioned
covariances, in one run. The script prints the best of ``--repeats`` alternating rounds of
each (wall clock, and process CPU, which other processes on a shared machine disturb less),
the speed-up, and the agreement of the two values.

Usage: python benchmarks/bench_fid.py [--dim 2048] [--repeats 3] [--seed 0]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from rows import emit_row

from ganbook_utils.metrics import frechet_distance, frechet_distance_sqrtm


def random_covariance(d: int, rng: np.random.Generator) -> np.ndarray:
    """I + A A^T / (4d): symmetric positive definite, eigenvalues in about [1, 2]."""
    a = rng.standard_normal((d, d))
    return np.eye(d) + a @ a.T / (4.0 * d)


def timed(function, *args) -> tuple[float, float, float]:
    """(value, wall seconds, process CPU seconds) of one call."""
    wall, cpu = time.perf_counter(), time.process_time()
    value = function(*args)
    return value, time.perf_counter() - wall, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dim", type=int, default=2048)
    parser.add_argument("--repeats", type=int, default=3, help="timed calls of each (best kept)")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    sigma1, sigma2 = random_covariance(args.dim, rng), random_covariance(args.dim, rng)
    mu1, mu2 = rng.normal(size=args.dim), rng.normal(size=args.dim)
    inputs = (mu1, sigma1, mu2, sigma2)

    # Rounds alternate between the two implementations, so that load from other processes on
    # a shared machine hits both alike; the best round of each is kept (as timeit does).
    implementations = {"ours (eigvalsh)": frechet_distance, "sqrtm ref": frechet_distance_sqrtm}
    runs = {name: [] for name in implementations}
    for _ in range(args.repeats):
        for name, function in implementations.items():
            runs[name].append(timed(function, *inputs))
    results = {
        name: (calls[0][0], min(call[1] for call in calls), min(call[2] for call in calls))
        for name, calls in runs.items()
    }

    print(f"Fréchet distance, d={args.dim}, best of {args.repeats} call(s)")
    print(f"{'implementation':<14} {'value':>18} {'wall s':>9} {'cpu s':>9}")
    for name, (value, wall, cpu) in results.items():
        print(f"{name:<14} {value:>18.10f} {wall:>9.2f} {cpu:>9.2f}")
    ours, reference = results["ours (eigvalsh)"], results["sqrtm ref"]
    print(
        f"speed-up: {reference[1] / ours[1]:.1f}x wall, {reference[2] / ours[2]:.1f}x cpu; "
        f"relative difference of the values: {abs(ours[0] - reference[0]) / abs(reference[0]):.2e}"
    )
    if abs(ours[0] - reference[0]) > 1e-6 * abs(reference[0]):  # tests check d=1024 only
        raise SystemExit(
            f"bench_fid: the two values disagree at d={args.dim}: {ours[0]} vs {reference[0]}"
        )
    emit_row(
        f"bench_fid.py: frechet_distance at d={args.dim} (best of {args.repeats})",
        ours=ours[1],
        baseline=reference[1],
        unit="s",
        goal="<= 0.33",
        ours_label="eigvalsh",
        baseline_label="scipy sqrtm",
    )


if __name__ == "__main__":
    main()
