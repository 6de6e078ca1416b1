"""Print the standard opening of a chapter as a Jupytext "percent" script.

Usage: python tools/new_chapter.py 03-toy-gan "A GAN you can watch" > /tmp/03-toy-gan.py
Write the chapter below the opening, then convert it to the notebook the book uses:
    .venv/bin/jupytext --to ipynb /tmp/03-toy-gan.py -o book/03-toy-gan.ipynb
(``jupytext --to py:percent book/03-toy-gan.ipynb`` turns it back into a script to edit.)
tests/test_consistency.py checks that every chapter keeps this opening.
"""

from __future__ import annotations

import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def repository() -> tuple[str, str]:
    """(URL, branch) of the one repository setting in _config.yml."""
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    return config["repository"]["url"].rstrip("/"), config["repository"].get("branch", "main")


def colab_url(slug: str) -> str:
    url, branch = repository()
    return url.replace("https://github.com/", "https://colab.research.google.com/github/") + (
        f"/blob/{branch}/book/{slug}.ipynb"
    )


def setup_code() -> str:
    url, _ = repository()
    return (
        "# Colab setup: installs the book's helper package on Colab; does nothing elsewhere.\n"
        "import importlib.util\n"
        "import subprocess\n"
        "import sys\n"
        "\n"
        f'PACKAGE = "ganbook_utils @ git+{url}"\n'
        'if "google.colab" in sys.modules and importlib.util.find_spec("ganbook_utils") is None:\n'
        '    subprocess.run([sys.executable, "-m", "pip", "install", "-q", PACKAGE], check=True)'
    )


PROFILE_CODE = (
    "from ganbook_utils.profiles import get_profile\n"
    "\n"
    "PROFILE = get_profile()  # smoke, cpu or gpu: every budget below comes from it\n"
    "print(PROFILE)"
)


def opening(slug: str, title: str) -> str:
    return f"""# ---
# jupyter:
#   kernelspec:
#     display_name: Python 3
#     language: python
#     name: python3
# ---

# %% [markdown]
# # {title}
#
# **What you will learn:** (two lines)
#
# [Open this chapter in Colab]({colab_url(slug)}) and choose *Runtime → Run all*.

# %% tags=["remove-input"]
{setup_code()}

# %%
{PROFILE_CODE}
"""


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__)
    print(opening(sys.argv[1], sys.argv[2]))
