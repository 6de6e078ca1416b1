"""``python -m ganbook_utils``: the book's tools outside notebooks.

* ``profile [NAME] [-v]`` -- print the profile in force (or the named one).
* ``train --model dcgan28 --dataset mnist --steps N --out DIR`` -- train a DCGAN with the
  book's code; run the same command again to resume from DIR's checkpoint. ``--export PREFIX``
  also writes PREFIX.weights.h5 (generator) and PREFIX.json (provenance), which is how the
  weights in ``ganbook_utils/weights/`` are made.
* ``train --model vae --dataset mnist --out DIR --export PREFIX`` -- the same for the VAE
  chapter's model (``vae.load_pretrained`` reads the export); provenance adds the validation
  negative ELBO and, on MNIST, FID/KID/IS/precision/recall with the book's classifier.
* ``train --model diffusion|diffusion_cond --objective flow|ddpm --out DIR --export PREFIX``
  -- the diffusion chapter's U-Net (unconditional, or class-conditional with label dropout).
* ``sample --weights NAME --n N --seed S --out FILE.npy|FILE.png`` -- samples from a shipped
  generator (``--label``, ``--steps``, ``--guidance`` for diffusion); ``sample --help`` lists
  the shipped names.

A resumed run keeps the optimizer settings of its checkpoint (``--learning-rate``,
``--beta-1``) and its ``--steps-per-epoch``: omitted, they are taken from the checkpoint;
given with another value, the command stops with a one-line error naming the flag and both
values. User errors (an unknown dataset or profile, ``--out`` naming a file, a resume
mismatch) print one line and exit with status 2, as argparse does.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ganbook_utils import profiles

PROVENANCE_FILE = "provenance.json"
COMMANDS_FILE = "commands.json"  # every invocation that trained into --out, oldest first
GENERATOR_WEIGHTS_FILE = "generator.weights.h5"
# A weights file is saved under this name first and renamed when complete.
PARTIAL_WEIGHTS_SUFFIX = ".partial.weights.h5"
# Optimizer settings a resumed run keeps, by the flag that sets them.
RESUMED_FLAGS = {"learning_rate": "--learning-rate", "beta_1": "--beta-1"}


class UsageError(Exception):
    """A mistake in the command line: :func:`main` prints it as one line and exits with 2."""


def _cmd_profile(args: argparse.Namespace) -> int:
    try:
        profile = profiles.get_profile(args.name)
    except ValueError as error:
        raise UsageError(str(error)) from None
    print(profile if args.verbose else profile.name)
    return 0


# --- train: what every model family shares ---------------------------------------------------


def _train_profile(args: argparse.Namespace) -> profiles.Profile:
    try:
        return profiles.get_profile(args.profile)
    except ValueError as error:
        raise UsageError(f"--profile: {error}") from None


def _check_dataset_name(name: str) -> None:
    from ganbook_utils import data

    if name not in data.DATASET_NAMES:
        raise UsageError(
            f"--dataset {name!r} is not a dataset; choose one of {', '.join(data.DATASET_NAMES)}."
        )


def _run_directory(args: argparse.Namespace) -> Path:
    """``--out`` as a directory (created); a file there is a usage error."""
    out = Path(args.out)
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {args.out} is a file; pass a directory (created if missing).")
    out.mkdir(parents=True, exist_ok=True)
    for partial in out.glob(f"*{PARTIAL_WEIGHTS_SUFFIX}"):
        partial.unlink()  # left by a run killed while saving weights
    return out


def _saved_run(out: Path) -> dict[str, Any] | None:
    """The records of ``out``'s checkpoint (``training.read_checkpoint``), or None."""
    from ganbook_utils import training

    path = out / training.CHECKPOINT_FILE
    if not path.exists():
        return None
    try:
        return training.read_checkpoint(path)
    except (training.CheckpointError, OSError) as error:
        raise UsageError(f"--out {out}: {error}") from None


def _resumed_settings(
    args: argparse.Namespace, saved: dict[str, Any] | None, defaults: dict[str, Any]
) -> dict[str, Any]:
    """Values for the settings a resumed run keeps (optimizer settings, steps per epoch).

    Fresh run: the flag, else ``defaults[setting]``. Resumed run: an omitted flag takes the
    checkpoint's value; a given one must equal it (else UsageError naming the flag and both).
    """
    chosen = {}
    recorded: dict[str, Any] = {}
    if saved is not None:
        for record in saved["optimizers"].values():
            for setting in RESUMED_FLAGS:
                recorded.setdefault(setting, record.get(setting))
        recorded["steps_per_epoch"] = saved["state"].get("steps_per_epoch")
    flags = {**RESUMED_FLAGS, "steps_per_epoch": "--steps-per-epoch"}
    for setting, flag in flags.items():
        given = getattr(args, setting)
        previous = recorded.get(setting)
        if previous is None:
            chosen[setting] = defaults.get(setting) if given is None else given
        elif given is None:
            chosen[setting] = previous
        elif not _same_value(given, previous):
            raise UsageError(
                f"{flag} {given:g} differs from {previous:g}, the value the checkpoint in "
                f"{args.out} was trained with; a resumed run keeps it: omit {flag} (or pass "
                f"{previous:g}) to resume, or choose a new --out."
            )
        else:
            chosen[setting] = previous
    return chosen


def _same_value(given: float, previous: float) -> bool:
    return abs(given - previous) <= 1e-6 * max(abs(given), abs(previous))


def _fit(training: Any, model: Any, pipeline: Any, steps: int, out: Path, settings, args):
    """``training.fit_resumable`` with the checkpoint's mismatches as one-line usage errors.

    Each invocation that trains into ``out`` is appended to ``out/commands.json`` first, so
    that the provenance of a run trained in several legs (killed, resumed, extended with a
    larger ``--steps``) lists every leg's command, not only the last one.
    """
    earlier = _recorded_commands(out)
    _record_command(training, out, args)
    try:
        return training.fit_resumable(
            model,
            pipeline,
            steps,
            out,
            steps_per_epoch=settings["steps_per_epoch"],
            progress=not args.quiet,
        )
    except training.ResumeMismatch as error:
        _forget_command(training, out, earlier)
        flag = RESUMED_FLAGS.get(error.setting, error.setting)
        raise UsageError(
            f"{flag} {error.requested!r} differs from {error.saved!r}, the value the checkpoint "
            f"in {out} was trained with; resume with the same settings or choose a new --out."
        ) from None
    except training.CheckpointError as error:
        _forget_command(training, out, earlier)
        raise UsageError(
            f"--out {out}: {error} (use the --model, --width, --latent-dim and --loss of the run "
            "that made it, or a new --out)"
        ) from None


def _forget_command(training: Any, out: Path, earlier: list[str]) -> None:
    """Undo `_record_command`: the command was refused before it trained a step."""
    training.write_text_atomic(out / COMMANDS_FILE, json.dumps(earlier, indent=2) + "\n")


def _record_command(training: Any, out: Path, args: argparse.Namespace) -> None:
    """Append this invocation's command to the list in ``out/commands.json`` (atomically)."""
    out.mkdir(parents=True, exist_ok=True)
    command = "python -m ganbook_utils " + shlex.join(args.argv)
    training.write_text_atomic(
        out / COMMANDS_FILE, json.dumps([*_recorded_commands(out), command], indent=2) + "\n"
    )


def _recorded_commands(out: Path) -> list[str]:
    """The commands that trained into ``out``, oldest first ([] before the first)."""
    path = out / COMMANDS_FILE
    return json.loads(path.read_text()) if path.is_file() else []


def _save_weights_atomic(save: Callable[[Path], None], path: Path) -> None:
    """Save a ``.weights.h5`` file under a partial name, then rename it: whole or absent."""
    partial = path.with_name(path.name.removesuffix(".weights.h5") + PARTIAL_WEIGHTS_SUFFIX)
    save(partial)
    os.replace(partial, path)



def _run_facts(splits: Any, result: dict, history: dict, seed: int) -> dict[str, Any]:
    """The provenance fields every trainer records: data, steps, seed, time, final losses."""
    return {
        "data": {
            "name": splits.name,
            "source": splits.source,
            "description": splits.description,
            "train_images": len(splits.train),
            # The held-out split (same loader, same seed) is what FID should be measured on.
            "val_images": len(splits.val),
        },
        "steps": result["step"],
        "seed": seed,
        # Training time summed over every resumed run (up to its last checkpoint).
        "wall_time_s": round(result["wall_time_s"], 1),
        "final_losses": {k: v[-1] for k, v in history.items() if k != "step" and v},
    }

def _write_outputs(out: Path, provenance: dict, weights: Path, export: str | None) -> None:
    """provenance.json in ``out`` and, with ``--export PREFIX``, the weights and provenance copy."""
    from ganbook_utils import training

    # "command" is the last invocation; "commands" every one that trained into `out`, in order.
    provenance = {**provenance, "commands": _recorded_commands(out) or [provenance["command"]]}
    text = json.dumps(provenance, indent=2) + "\n"
    training.write_text_atomic(out / PROVENANCE_FILE, text)
    if export:
        prefix = Path(export)
        prefix.parent.mkdir(parents=True, exist_ok=True)
        _save_weights_atomic(
            lambda partial: shutil.copyfile(weights, partial),
            prefix.with_name(prefix.name + ".weights.h5"),
        )
        training.write_text_atomic(prefix.with_name(prefix.name + ".json"), text)
        print(f"Exported {prefix}.weights.h5 and {prefix}.json")


def _default(value: Any, default: Any) -> Any:
    """``value`` unless it is None (an explicit 0 stays 0 and is refused by the checks)."""
    return default if value is None else value


def _cmd_train(args: argparse.Namespace) -> int:
    _check_dataset_name(args.dataset)
    return TRAINERS[args.model](args)


# --- train: the model families -----------------------------------------------------------------


def _train_dcgan(args: argparse.Namespace) -> int:
    """``train --model dcgan28|dcgan32|dcgan64``: the DCGAN chapter's recipes."""
    out = _run_directory(args)  # the cheap checks first: "auto" profile detection imports TF
    profile = _train_profile(args)
    from ganbook_utils import data, models, training

    big = args.model != "dcgan28"
    steps = _default(args.steps, profile.dcgan64_steps if big else profile.dcgan_steps)
    train_size = _default(
        args.train_size, profile.dcgan64_train_size if big else profile.train_size
    )
    batch_size = _default(args.batch_size, profile.batch_size)
    image_shape = models.DCGAN_IMAGE_SHAPES[args.model]
    recipe = training.DCGAN_RECIPES[args.model]
    width = _default(
        args.width, profile.dcgan64_width if args.model == "dcgan64" else recipe["width"]
    )
    settings = _resumed_settings(
        args, _saved_run(out), {**recipe, "steps_per_epoch": max(1, steps // 20)}
    )

    import keras

    keras.utils.set_random_seed(args.seed)
    policy = training.configure_mixed_precision("auto" if args.mixed_precision else False)
    splits = data.load_dataset(
        args.dataset,
        source=args.source,
        train_size=train_size,
        val_size=profile.val_size,
        seed=args.seed,
    )
    if splits.image_shape != image_shape:
        raise UsageError(
            f"--dataset {args.dataset!r} has images of shape {splits.image_shape} but --model "
            f"{args.model!r} makes {image_shape}; pick a matching pair (dcgan28: mnist, "
            "dcgan32: shapes32/cifar10, dcgan64: shapes64/lfw64)."
        )
    pipeline = data.make_pipeline(splits.train.images, batch_size, seed=args.seed)
    gan = training.build_gan(
        args.model,
        loss=args.loss,
        width=width,
        latent_dim=args.latent_dim,
        learning_rate=settings["learning_rate"],
        beta_1=settings["beta_1"],
    )
    result = _fit(training, gan, pipeline, steps, out, settings, args)
    if result["diverged"]:
        return 1  # the DivergenceGuard has printed why

    # The moving average of the weights, the ones `GAN.sample` uses, are the ones to ship.
    with gan.averaged_generator() as generator:
        _save_weights_atomic(generator.save_weights, out / GENERATOR_WEIGHTS_FILE)
    history = result["history"]
    ran = training.optimizer_settings(gan)["d_optimizer"]  # what trained, not what was asked
    provenance = {
        "command": "python -m ganbook_utils " + shlex.join(args.argv),
        "profile": profile.name,
        "model": args.model,
        "architecture": {
            "model": args.model,
            "latent_dim": _default(args.latent_dim, recipe["latent_dim"]),
            "width": width,
        },
        "loss": args.loss,
        "learning_rate": ran["learning_rate"],
        "beta_1": ran["beta_1"],
        "batch_size": batch_size,
        "steps_per_epoch": settings["steps_per_epoch"],
        "generator_ema_momentum": (
            training.GENERATOR_EMA_MOMENTUM if recipe["generator_ema"] else None
        ),
        "dtype_policy": policy,
        **_run_facts(splits, result, history, args.seed),
        "generator_parameters": int(gan.generator.count_params()),
    }
    print(f"Trained {result['step']} steps in {result['wall_time_s']:.0f} s; outputs in {out}/")
    _write_outputs(out, provenance, out / GENERATOR_WEIGHTS_FILE, args.export)
    return 0


VAE_DEFAULTS = {"latent_dim": 16, "learning_rate": 1e-3, "beta_1": 0.9}


def _cmd_train_vae(args: argparse.Namespace) -> int:
    """``train --model vae``: the VAE chapter's model and recipe (Adam, resumable fit)."""
    out = _run_directory(args)  # the cheap checks first: "auto" profile detection imports TF
    profile = _train_profile(args)
    import keras

    from ganbook_utils import data, training
    from ganbook_utils import vae as vae_module

    steps = _default(args.steps, profile.vae_steps)
    batch_size = _default(args.batch_size, profile.batch_size)
    latent_dim = _default(args.latent_dim, VAE_DEFAULTS["latent_dim"])
    settings = _resumed_settings(
        args,
        _saved_run(out),
        {**VAE_DEFAULTS, "steps_per_epoch": max(1, steps // 20)},
    )
    keras.utils.set_random_seed(args.seed)
    splits = data.load_dataset(
        args.dataset,
        source=args.source,
        train_size=_default(args.train_size, profile.train_size),
        val_size=profile.val_size,
        seed=args.seed,
    )
    if args.likelihood is None:
        likelihood = "bernoulli" if splits.image_shape[-1] == 1 else "gaussian"
    else:
        likelihood = args.likelihood
    model = vae_module.build_vae(
        splits.image_shape,
        latent_dim,
        likelihood=likelihood,
        observation_std=args.observation_std,
        seed=args.seed,
    )
    model.compile(
        optimizer=keras.optimizers.Adam(settings["learning_rate"], beta_1=settings["beta_1"])
    )
    pipeline = data.make_pipeline(splits.train.images, batch_size, seed=args.seed)
    result = _fit(training, model, pipeline, steps, out, settings, args)
    if result["diverged"]:
        return 1  # the DivergenceGuard has printed why
    val_images = data.normalize_images(splits.val.images)
    validation = model.negative_elbo(val_images)
    weights = out / "vae.weights.h5"
    _save_weights_atomic(lambda path: vae_module.save_weights(model, path), weights)
    history = result["history"]
    provenance = {
        "command": "python -m ganbook_utils " + shlex.join(args.argv),
        "profile": profile.name,
        "model": "vae",
        "architecture": {
            "image_shape": list(splits.image_shape),
            "latent_dim": latent_dim,
            "likelihood": likelihood,
            "observation_std": args.observation_std if likelihood == "gaussian" else None,
            "beta": 1.0,
            "filters": [32, 64],
            "hidden_units": 128,
        },
        # What trained (the optimizer's own record), not what the command line asked.
        "learning_rate": training.optimizer_settings(model)["optimizer"]["learning_rate"],
        "beta_1": training.optimizer_settings(model)["optimizer"]["beta_1"],
        "batch_size": batch_size,
        "steps_per_epoch": settings["steps_per_epoch"],
        **_run_facts(splits, result, history, args.seed),
        # One reparameterised sample per image (seed 0), in nats per image.
        "validation_negative_elbo": {k: round(v, 3) for k, v in validation.items()},
        "parameters": int(model.encoder.count_params() + model.decoder.count_params()),
    }
    if splits.image_shape == (28, 28, 1):
        provenance["evaluation"] = _mnist_sample_scores(model, profile)
        provenance["fid"] = provenance["evaluation"]["fid"]["mean"]
    print(
        f"Trained {result['step']} steps in {result['wall_time_s']:.0f} s; validation negative "
        f"ELBO {validation['loss']:.2f} nats; outputs in {out}/"
    )
    _write_outputs(out, provenance, weights, args.export)
    return 0


def _train_diffusion(args: argparse.Namespace) -> int:
    """``train --model diffusion|diffusion_cond``: the diffusion chapter's U-Net (Adam, EMA)."""
    import dataclasses

    import keras

    from ganbook_utils import data, training
    from ganbook_utils import diffusion as diffusion_module

    profile = _train_profile(args)
    out = _run_directory(args)
    steps = _default(args.steps, profile.diffusion_steps)
    batch_size = _default(args.batch_size, profile.batch_size)
    width = _default(args.width, profile.diffusion_width)
    widths = (width, 2 * width, 4 * width)
    settings = _resumed_settings(
        args,
        _saved_run(out),
        {"learning_rate": 1e-3, "beta_1": 0.9, "steps_per_epoch": max(1, steps // 20)},
    )
    keras.utils.set_random_seed(args.seed)
    splits = data.load_dataset(
        args.dataset,
        source=args.source,
        train_size=_default(args.train_size, profile.train_size),
        val_size=profile.val_size,
        seed=args.seed,
    )
    conditional = args.model == "diffusion_cond"
    if conditional and splits.train.labels is None:
        raise UsageError(f"--model diffusion_cond needs labels; --dataset {args.dataset} has none.")
    num_classes = int(splits.train.labels.max()) + 1 if conditional else None
    model = diffusion_module.build_diffusion(
        splits.image_shape,
        objective=args.objective,
        widths=widths,
        num_classes=num_classes,
        sampling_steps=_default(args.sampling_steps, profile.diffusion_sampling_steps),
        learning_rate=None,
        seed=args.seed,
    )
    model.compile(
        keras.optimizers.Adam(
            settings["learning_rate"],
            beta_1=settings["beta_1"],
            use_ema=True,
            ema_momentum=diffusion_module.DENOISER_EMA_MOMENTUM,
        )
    )
    pipeline = data.make_pipeline(
        splits.train.images,
        batch_size,
        labels=splits.train.labels if conditional else None,
        seed=args.seed,
    )
    result = _fit(training, model, pipeline, steps, out, settings, args)
    if result["diverged"]:
        return 1  # the DivergenceGuard has printed why
    weights = out / "denoiser.weights.h5"
    _save_weights_atomic(lambda path: diffusion_module.save_weights(model, path), weights)
    history = result["history"]
    ran = training.optimizer_settings(model)["optimizer"]
    provenance = {
        "command": "python -m ganbook_utils " + shlex.join(args.argv),
        "profile": profile.name,
        "model": args.model,
        "architecture": diffusion_module.architecture_record(model, widths, 1),
        "learning_rate": ran["learning_rate"],
        "beta_1": ran["beta_1"],
        "ema_momentum": diffusion_module.DENOISER_EMA_MOMENTUM,
        "batch_size": batch_size,
        "steps_per_epoch": settings["steps_per_epoch"],
        **_run_facts(splits, result, history, args.seed),
        "parameters": int(model.denoiser.count_params()),
    }
    if splits.image_shape == (28, 28, 1):
        # Sampling costs `sampling_steps` network passes per image: fewer draws than the GANs'.
        scored = dataclasses.replace(profile, metric_repeats=args.fid_draws)
        provenance["evaluation"] = _mnist_sample_scores(model, scored)
        provenance["evaluation"]["sampling_steps"] = model.sampling_steps
        provenance["fid"] = provenance["evaluation"]["fid"]["mean"]
    print(f"Trained {result['step']} steps in {result['wall_time_s']:.0f} s; outputs in {out}/")
    _write_outputs(out, provenance, weights, args.export)
    return 0


# --model NAME -> the function that trains it. A new family adds one entry (and its flags).
TRAINERS: dict[str, Callable[[argparse.Namespace], int]] = {
    "dcgan28": _train_dcgan,
    "dcgan32": _train_dcgan,
    "dcgan64": _train_dcgan,
    "vae": _cmd_train_vae,
    "diffusion": _train_diffusion,
    "diffusion_cond": _train_diffusion,
    "judge": lambda args: __import__("ganbook_utils.judge", fromlist=["train_cli"]).train_cli(args),
    "clip": lambda args: __import__("ganbook_utils.text", fromlist=["train_cli"]).train_cli(args),
    "diffusion_text": lambda args: __import__(
        "ganbook_utils.text_to_image", fromlist=["train_cli"]
    ).train_cli(args),
    "gan_text": lambda a: __import__("ganbook_utils.text_gan", fromlist=["train_cli"]).train_cli(a),
}


def _mnist_sample_scores(model, profile: profiles.Profile) -> dict:
    """The evaluation chapter's protocol for samples of an MNIST model (mean, std over draws)."""
    import numpy as np

    from ganbook_utils import data, features, metrics

    extractor = features.mnist_classifier()
    held_out = features.mnist_classifier_provenance()["data"]["val_images"]
    splits = data.load_dataset(
        "mnist", val_size=min(profile.fid_samples, held_out), seed=0, verbose=False
    )
    real_features = extractor.features(splits.val.images)
    draws = []
    for seed in range(profile.metric_repeats):
        fake_features, fake_logits = extractor.features_and_logits(
            model.sample(profile.fid_samples, seed=seed)
        )
        draws.append(
            metrics.evaluate_features(
                real_features,
                fake_features,
                fake_logits,
                kid_subsets=profile.kid_subsets,
                seed=seed,
            )
        )
    record = {
        "extractor": extractor.description,
        "real": f"{len(real_features)} held-out MNIST digits ({splits.description})",
        "generated_samples": profile.fid_samples,
        "draws": profile.metric_repeats,
    }
    for key in draws[0]:
        values = np.array([draw[key] for draw in draws])
        record[key] = {"mean": round(float(values.mean()), 4), "std": round(float(values.std()), 4)}
    return record


class _Parser(argparse.ArgumentParser):
    """argparse, with each error on one line (``prog: error: ...``) and exit status 2."""

    def error(self, message: str):
        self.exit(2, f"{self.prog}: error: {message}\n")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="python -m ganbook_utils",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    commands = parser.add_subparsers(dest="command", required=True)

    profile = commands.add_parser("profile", help="print the profile in force (or the named one)")
    profile.add_argument("name", nargs="?", default=None, help="smoke, cpu or gpu")
    profile.add_argument("-v", "--verbose", action="store_true", help="print every budget")
    profile.set_defaults(func=_cmd_profile)

    train = commands.add_parser(
        "train", help="train a DCGAN into a directory (run again to resume)"
    )
    train.add_argument(
        "--model", default="dcgan28", choices=list(TRAINERS), help="the model family"
    )
    train.add_argument("--dataset", default="mnist", help="a ganbook_utils.data dataset name")
    train.add_argument("--out", required=True, help="directory for checkpoints and samples")
    train.add_argument(
        "--steps",
        type=_positive_int,
        default=None,
        help="training steps (default: the profile's dcgan_steps or dcgan64_steps)",
    )
    train.add_argument(
        "--profile", default=None, help="smoke, cpu or gpu (default: $GANBOOK_PROFILE, else auto)"
    )
    train.add_argument("--batch-size", type=_positive_int, default=None)
    train.add_argument("--train-size", type=_positive_int, default=None)
    train.add_argument(
        "--steps-per-epoch",
        type=_positive_int,
        default=None,
        help="steps between checkpoints and sample grids (default: steps // 20; on resume: "
        "the checkpoint's)",
    )
    train.add_argument(
        "--loss",
        default="non_saturating",
        choices=["minimax", "non_saturating", "hinge", "least_squares", "wasserstein"],
    )
    train.add_argument("--width", type=_positive_int, default=None)
    train.add_argument("--latent-dim", type=_positive_int, default=None)
    train.add_argument(
        "--learning-rate",
        type=_positive_float,
        default=None,
        help="Adam's learning rate (default: the recipe's; on resume: the checkpoint's)",
    )
    train.add_argument(
        "--beta-1",
        type=_unit_interval,
        default=None,
        help="Adam's beta_1 in [0, 1) (default: the recipe's; on resume: the checkpoint's)",
    )
    train.add_argument("--seed", type=_non_negative_int, default=0)
    train.add_argument("--source", default="auto", choices=["auto", "download", "offline"])
    train.add_argument(
        "--no-mixed-precision",
        dest="mixed_precision",
        action="store_false",
        help="keep float32 even on a GPU that supports float16",
    )
    train.add_argument(
        "--export", default=None, help="also write PREFIX.weights.h5 and PREFIX.json (provenance)"
    )
    train.add_argument(
        "--likelihood",
        default=None,
        choices=["bernoulli", "gaussian"],
        help="vae only: p(x|z) (default: bernoulli for 1-channel data, else gaussian)",
    )
    train.add_argument(
        "--observation-std",
        type=_positive_float,
        default=0.3,
        help="vae only: pixel noise of the gaussian likelihood, on the [-1, 1] scale",
    )
    train.add_argument(
        "--objective",
        default="flow",
        choices=["flow", "ddpm"],
        help="diffusion only: velocity (flow matching) or noise (DDPM) prediction",
    )
    train.add_argument(
        "--sampling-steps",
        type=_positive_int,
        default=None,
        help="diffusion only: default sampling steps (and those of the FID in the provenance)",
    )
    train.add_argument(
        "--fid-draws",
        type=_positive_int,
        default=2,
        help="diffusion only: independent sample draws for the provenance's FID",
    )
    train.add_argument(
        "--text-encoder",
        default="clip_shapes32",
        help="diffusion_text only: the frozen text encoder (a shipped name or an export PREFIX)",
    )
    train.add_argument(
        "--guidance",
        type=_float,
        default=None,
        help="diffusion_text only: the default guidance weight w recorded with the model",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(func=_cmd_train)

    from ganbook_utils import sampling  # the `sample` subcommand: every shipped generator

    sampling.add_parser(commands, _positive_int, _non_negative_int, _float)
    return parser


def _non_negative_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"expected an integer >= 0, got {value}")
    return value


def _float(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a number, got {text!r}") from None
    if value != value or value in (float("inf"), float("-inf")):
        raise argparse.ArgumentTypeError(f"expected a finite number, got {text!r}")
    return value


def _positive_float(text: str) -> float:
    value = _float(text)
    if value <= 0:
        raise argparse.ArgumentTypeError(f"expected a positive number, got {text}")
    return value


def _unit_interval(text: str) -> float:
    value = _float(text)
    if not 0 <= value < 1:
        raise argparse.ArgumentTypeError(f"expected a number in [0, 1), got {text}")
    return value


def _positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"expected a positive integer, got {value}")
    return value


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    args = parser.parse_args(argv)
    args.argv = argv
    try:
        return args.func(args)
    except UsageError as error:
        parser.exit(2, f"{parser.prog} {args.command}: error: {error}\n")
