"""ganbook_utils: the helper package behind the ganbook chapters.

Importing it is cheap: submodules (and TensorFlow) load only when a chapter asks for them.
"""

import os

# TensorFlow's C++ start-up logging ends up on notebook pages; keep warnings and errors only.
# Set before TensorFlow is first imported, which chapters do after importing this package.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

__version__ = "0.1.0"
