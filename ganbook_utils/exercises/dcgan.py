"""Checks for the exercises of the chapter "DCGAN in TensorFlow"."""

from __future__ import annotations

from collections.abc import Callable

# (input size, kernel, stride, padding) cases covering both paddings, odd and even kernels.
_CASES = [
    (7, 4, 2, "same"),
    (7, 5, 2, "same"),
    (8, 4, 2, "same"),
    (7, 4, 2, "valid"),
    (7, 5, 1, "valid"),
    (4, 3, 2, "valid"),
    (14, 5, 2, "valid"),
    (1, 4, 1, "same"),
]


def _keras_transposed_size(size: int, kernel: int, stride: int, padding: str) -> int:
    """What Keras' ``Conv2DTranspose`` really outputs (computed by running the layer)."""
    import keras
    import numpy as np

    layer = keras.layers.Conv2DTranspose(1, kernel, strides=stride, padding=padding)
    return int(layer(np.zeros((1, size, size, 1), dtype="float32")).shape[1])


def check_transposed_conv_size(output_size: Callable[[int, int, int, str], int]) -> None:
    """Check ``output_size(size, kernel, stride, padding)`` of a ``Conv2DTranspose`` layer.

    The reference is the layer itself: each case builds a Keras ``Conv2DTranspose`` and reads
    the spatial size of its output.

    Raises:
        AssertionError: with the failing case and a hint, when an answer differs.
    """
    for size, kernel, stride, padding in _CASES:
        expected = _keras_transposed_size(size, kernel, stride, padding)
        answer = output_size(size, kernel, stride, padding)
        hint = (
            "With padding='same' the output is simply size * stride."
            if padding == "same"
            else "With padding='valid' each input step adds `stride` pixels and the kernel "
            "overhangs the last one: (size - 1) * stride + kernel."
        )
        assert answer == expected, (
            f"For input {size}, kernel {kernel}, stride {stride}, padding={padding!r} the output "
            f"is {expected} pixels wide; you computed {answer}. {hint}"
        )
    print(f"Right: your formula matches Conv2DTranspose on all {len(_CASES)} cases.")
