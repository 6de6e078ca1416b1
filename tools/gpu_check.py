"""The measuring half of tools/gpu_check.sh: DCGAN throughput and FID, chapters, one JSON.

1. dcgan28 on MNIST with the package's recipe (``training.build_gan``, ``GAN.fit``), the gpu
   profile's batch, for the profile's ``dcgan_steps`` (times ``GANBOOK_QUICK``): images/s
   (epochs after the first, which traces) and seconds per epoch (one pass over the training
   digits); then FID and IS with the book's classifier, N = the profile's ``fid_samples``
   (capped at 2,000) against the 1,000 held-out digits.
2. The chapters (DCGAN, evaluation, diffusion, those that exist), each executed by nbconvert
   in the gpu profile: seconds, success, the numbers each chapter glues.
3. The device name (nvidia-smi, else TensorFlow's), versions, budgets: all in one JSON file.

``--dry-run`` runs the same code on whatever device there is with tiny budgets and no
chapters, to check the script itself on a CPU.

Usage: GANBOOK_PROFILE=gpu GANBOOK_QUICK=0.1 python tools/gpu_check.py --out gpu_check.json
"""

from __future__ import annotations

import argparse
import datetime
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = ("book/05-dcgan.ipynb", "book/08-evaluation.ipynb", "book/09-diffusion.ipynb")
GLUE_MIME = "application/papermill.record/"


def device_name() -> str:
    """The GPU's name from nvidia-smi, else the devices TensorFlow sees."""
    if shutil.which("nvidia-smi"):
        query = subprocess.run(
            ["nvidia-smi", "--query-gpu=name,memory.total", "--format=csv,noheader"],
            capture_output=True,
            text=True,
            check=False,
        )
        if query.stdout.strip():
            return query.stdout.strip().replace("\n", "; ")
    import tensorflow as tf

    return ", ".join(d.device_type for d in tf.config.list_physical_devices()) + " (no nvidia-smi)"


def measure_dcgan(steps: int, batch_size: int, samples: int) -> dict[str, Any]:
    """Train dcgan28 for ``steps`` steps; images/s, seconds per epoch, FID, IS."""
    import keras

    from ganbook_utils import data, features, metrics, training

    extractor = features.mnist_classifier()
    held_out = features.mnist_classifier_provenance()["data"]["val_images"]
    splits = data.load_dataset("mnist", val_size=held_out, seed=0)
    steps_per_epoch = max(1, len(splits.train) // batch_size)
    epochs = max(2, -(-steps // steps_per_epoch))
    epoch_seconds: list[float] = []

    class EpochClock(keras.callbacks.Callback):
        def on_epoch_begin(self, epoch, logs=None):
            self.start = time.perf_counter()

        def on_epoch_end(self, epoch, logs=None):
            epoch_seconds.append(time.perf_counter() - self.start)

    gan = training.build_gan("dcgan28")
    pipeline = data.make_pipeline(splits.train.images, batch_size, repeat=True, seed=0)
    start = time.perf_counter()
    gan.fit(
        pipeline,
        epochs=epochs,
        steps_per_epoch=steps_per_epoch,
        verbose=0,
        shuffle=False,
        callbacks=[EpochClock()],
    )
    wall = time.perf_counter() - start
    steady = epoch_seconds[1:]  # the first epoch traces the step function
    per_epoch = sum(steady) / len(steady)
    real = extractor.features(splits.val.images)
    fake_features, fake_logits = extractor.features_and_logits(gan.sample(samples, seed=0))
    scores = metrics.evaluate_features(real, fake_features, fake_logits)
    return {
        "model": "dcgan28 (package recipe, GAN.fit)",
        "data": splits.description,
        "batch_size": batch_size,
        "steps": epochs * steps_per_epoch,
        "steps_per_epoch": steps_per_epoch,
        "train_wall_s": round(wall, 2),
        "first_epoch_s": round(epoch_seconds[0], 3),
        "seconds_per_epoch": round(per_epoch, 4),
        "images_per_s": round(steps_per_epoch * batch_size / per_epoch, 1),
        "fid": round(float(scores["fid"]), 3),
        "inception_score": round(float(scores["inception_score"]), 3),
        "fid_protocol": f"{samples} generated vs {len(real)} held-out digits, "
        f"{extractor.description}",
    }


def glued_numbers(notebook: dict[str, Any]) -> dict[str, str]:
    """What a chapter glues (myst_nb.glue), by name, as the text it would show."""
    numbers = {}
    for cell in notebook.get("cells", []):
        for output in cell.get("outputs", []):
            scrapbook = output.get("metadata", {}).get("scrapbook", {})
            prefix = scrapbook.get("mime_prefix", GLUE_MIME)  # "" when glued with display
            text = output.get("data", {}).get(prefix + "text/plain")
            name = scrapbook.get("name")
            if name and text is not None:
                numbers[name] = text if isinstance(text, str) else "".join(text)
    return numbers


def run_chapter(path: str, out_dir: Path, timeout: int) -> dict[str, Any]:
    """Execute one chapter with nbconvert in the current environment; its record."""
    source = ROOT / path
    if not source.is_file():
        return {"chapter": path, "status": "missing"}
    executed = out_dir / source.name
    start = time.perf_counter()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "jupyter",
            "nbconvert",
            "--to",
            "notebook",
            "--execute",
            f"--ExecutePreprocessor.timeout={timeout}",
            str(source),
            "--output",
            str(executed),
        ],
        capture_output=True,
        text=True,
        check=False,
        cwd=source.parent,
    )
    record: dict[str, Any] = {
        "chapter": path,
        "status": "ok" if result.returncode == 0 else "failed",
        "seconds": round(time.perf_counter() - start, 1),
    }
    if result.returncode != 0:
        record["error"] = (result.stderr or result.stdout).strip().splitlines()[-5:]
    if executed.is_file():
        record["glued"] = glued_numbers(json.loads(executed.read_text()))
    return record


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "_build" / "gpu_check.json")
    parser.add_argument("--cell-timeout", type=int, default=400)
    parser.add_argument("--dry-run", action="store_true", help="tiny budgets, no chapters")
    args = parser.parse_args()

    from ganbook_utils import profiles

    profile = profiles.get_profile("smoke" if args.dry_run else None)
    start = time.perf_counter()
    report: dict[str, Any] = {
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "device": device_name(),
        "dry_run": args.dry_run,
        "profile": profile.name,
        "quick": os.environ.get(profiles.QUICK_ENV_VAR, "") or None,
        "budgets": {"dcgan_steps": profile.dcgan_steps, "batch_size": profile.batch_size},
    }
    import keras
    import tensorflow as tf

    report["versions"] = {"tensorflow": tf.__version__, "keras": keras.__version__}
    report["dcgan"] = measure_dcgan(
        profile.dcgan_steps, profile.batch_size, min(profile.fid_samples, 2_000)
    )
    print(json.dumps(report["dcgan"], indent=1), flush=True)
    chapters_dir = args.out.parent / "gpu_check_chapters"
    chapters_dir.mkdir(parents=True, exist_ok=True)
    report["chapters"] = [
        {"chapter": path, "status": "skipped (dry run)"}
        if args.dry_run
        else run_chapter(path, chapters_dir, args.cell_timeout)
        for path in CHAPTERS
    ]
    for chapter in report["chapters"]:
        print(chapter["chapter"], chapter["status"], chapter.get("seconds", ""), flush=True)
    report["total_s"] = round(time.perf_counter() - start, 1)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(f"written {args.out} ({report['total_s']} s)")
    failed = [c["chapter"] for c in report["chapters"] if c["status"] == "failed"]
    sys.exit(1 if failed else 0)


if __name__ == "__main__":
    main()
