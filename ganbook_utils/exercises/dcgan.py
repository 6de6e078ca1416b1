"""Checks for the exercises of the chapter "DCGAN in TensorFlow"."""

from __future__ import annotations

from collections.abc import Callable

from ganbook_utils.exercises import answer_of, exercise_check

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


@exercise_check(
    "write output_size(size, kernel, stride, padding): the output width of a Conv2DTranspose, "
    "for padding 'same' and 'valid'."
)
def check_transposed_conv_size(output_size: Callable[[int, int, int, str], int]) -> str:
    """Check ``output_size(size, kernel, stride, padding)`` of a ``Conv2DTranspose`` layer.

    The reference is the layer itself: each case builds a Keras ``Conv2DTranspose`` and reads
    the spatial size of its output. Prints and returns a
    :class:`~ganbook_utils.exercises.Verdict`; a wrong answer gets the failing case and a hint.
    """
    for size, kernel, stride, padding in _CASES:
        expected = _keras_transposed_size(size, kernel, stride, padding)
        answer = answer_of(output_size, size, kernel, stride, padding)
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
    return f"your formula matches Conv2DTranspose on all {len(_CASES)} cases."
