"""``python -m ganbook_utils``: the book's tools outside notebooks.

* ``profile [NAME] [-v]`` -- print the profile in force (or the named one).
* ``train --model dcgan28 --dataset mnist --steps N --out DIR`` -- train a DCGAN with the
  book's code; run the same command again to resume from DIR's checkpoint. ``--export PREFIX``
  also writes PREFIX.weights.h5 (generator) and PREFIX.json (provenance), which is how the
  weights in ``ganbook_utils/weights/`` are made.
* ``train --model vae --dataset mnist --out DIR --export PREFIX`` -- the same for the VAE
  chapter's model (``vae.load_pretrained`` reads the export); provenance adds the validation
  negative ELBO and, on MNIST, FID/KID/IS/precision/recall with the book's classifier.
"""

from __future__ import annotations

import argparse
import json
import shlex
import shutil
import sys
import time
from pathlib import Path

from ganbook_utils import profiles

PROVENANCE_FILE = "provenance.json"
GENERATOR_WEIGHTS_FILE = "generator.weights.h5"


def _cmd_profile(args: argparse.Namespace) -> int:
    profile = profiles.get_profile(args.name)
    print(profile if args.verbose else profile.name)
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    if args.model == "vae":
        return _cmd_train_vae(args)
    from ganbook_utils import data, models, training

    profile = profiles.get_profile(args.profile)
    big = args.model != "dcgan28"
    steps = args.steps or (profile.dcgan64_steps if big else profile.dcgan_steps)
    train_size = args.train_size or (profile.dcgan64_train_size if big else profile.train_size)
    batch_size = args.batch_size or profile.batch_size
    image_shape = models.DCGAN_IMAGE_SHAPES[args.model]
    recipe = training.DCGAN_RECIPES[args.model]
    width = args.width or (profile.dcgan64_width if args.model == "dcgan64" else recipe["width"])

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
        raise SystemExit(
            f"error: dataset {args.dataset!r} has images of shape {splits.image_shape} but model "
            f"{args.model!r} makes {image_shape}; pick a matching pair (dcgan28: mnist, "
            "dcgan32: shapes32/cifar10, dcgan64: shapes64/lfw64)."
        )
    pipeline = data.make_pipeline(splits.train.images, batch_size, seed=args.seed)
    gan = training.build_gan(
        args.model,
        loss=args.loss,
        width=width,
        latent_dim=args.latent_dim,
        learning_rate=args.learning_rate,
        beta_1=args.beta_1,
    )

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    previous = out / PROVENANCE_FILE
    earlier_wall = json.loads(previous.read_text())["wall_time_s"] if previous.exists() else 0.0
    start = time.perf_counter()
    result = training.fit_resumable(
        gan, pipeline, steps, out, steps_per_epoch=args.steps_per_epoch, progress=not args.quiet
    )
    wall = earlier_wall + time.perf_counter() - start
    if result["diverged"]:
        print(result["diverged"], file=sys.stderr)
        return 1

    # The moving average of the weights, the ones `GAN.sample` uses, are the ones to ship.
    with gan.averaged_generator() as generator:
        generator.save_weights(out / GENERATOR_WEIGHTS_FILE)
    history = result["history"]
    provenance = {
        "command": "python -m ganbook_utils " + shlex.join(args.argv),
        "profile": profile.name,
        "model": args.model,
        "architecture": {
            "model": args.model,
            "latent_dim": args.latent_dim or recipe["latent_dim"],
            "width": width,
        },
        "loss": args.loss,
        "learning_rate": args.learning_rate or recipe["learning_rate"],
        "beta_1": recipe["beta_1"] if args.beta_1 is None else args.beta_1,
        "batch_size": batch_size,
        "generator_ema_momentum": (
            training.GENERATOR_EMA_MOMENTUM if recipe["generator_ema"] else None
        ),
        "dtype_policy": policy,
        "data": {
            "name": splits.name,
            "source": splits.source,
            "description": splits.description,
            "train_images": len(splits.train),
            # The held-out split (same loader, same seed) is what FID should be measured on.
            "val_images": len(splits.val),
        },
        "steps": result["step"],
        "seed": args.seed,
        "wall_time_s": round(wall, 1),
        "final_losses": {k: v[-1] for k, v in history.items() if k != "step" and v},
        "generator_parameters": int(gan.generator.count_params()),
    }
    previous.write_text(json.dumps(provenance, indent=2) + "\n")
    print(f"Trained {result['step']} steps in {wall:.0f} s; outputs in {out}/")
    if args.export:
        prefix = Path(args.export)
        prefix.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(out / GENERATOR_WEIGHTS_FILE, prefix.with_name(prefix.name + ".weights.h5"))
        prefix.with_name(prefix.name + ".json").write_text(json.dumps(provenance, indent=2) + "\n")
        print(f"Exported {prefix}.weights.h5 and {prefix}.json")
    return 0


def _cmd_train_vae(args: argparse.Namespace) -> int:
    """``train --model vae``: the VAE chapter's model and recipe (Adam, resumable fit)."""
    import keras

    from ganbook_utils import data, training
    from ganbook_utils import vae as vae_module

    profile = profiles.get_profile(args.profile)
    steps = args.steps or profile.vae_steps
    batch_size = args.batch_size or profile.batch_size
    latent_dim = args.latent_dim or 16
    learning_rate = args.learning_rate or 1e-3
    keras.utils.set_random_seed(args.seed)
    splits = data.load_dataset(
        args.dataset,
        source=args.source,
        train_size=args.train_size or profile.train_size,
        val_size=profile.val_size,
        seed=args.seed,
    )
    likelihood = args.likelihood or ("bernoulli" if splits.image_shape[-1] == 1 else "gaussian")
    model = vae_module.build_vae(
        splits.image_shape,
        latent_dim,
        likelihood=likelihood,
        observation_std=args.observation_std,
        seed=args.seed,
    )
    model.compile(optimizer=keras.optimizers.Adam(learning_rate))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    previous = out / PROVENANCE_FILE
    earlier_wall = json.loads(previous.read_text())["wall_time_s"] if previous.exists() else 0.0
    start = time.perf_counter()
    result = training.fit_resumable(
        model,
        data.make_pipeline(splits.train.images, batch_size, seed=args.seed),
        steps,
        out,
        steps_per_epoch=args.steps_per_epoch,
        progress=not args.quiet,
    )
    wall = earlier_wall + time.perf_counter() - start
    if result["diverged"]:
        print(result["diverged"], file=sys.stderr)
        return 1
    val_images = data.normalize_images(splits.val.images)
    validation = model.negative_elbo(val_images)
    weights = out / "vae.weights.h5"
    vae_module.save_weights(model, weights)
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
        "learning_rate": learning_rate,
        "batch_size": batch_size,
        "data": {
            "name": splits.name,
            "source": splits.source,
            "description": splits.description,
            "train_images": len(splits.train),
            "val_images": len(splits.val),
        },
        "steps": result["step"],
        "seed": args.seed,
        "wall_time_s": round(wall, 1),
        "final_losses": {k: v[-1] for k, v in history.items() if k != "step" and v},
        # One reparameterised sample per image (seed 0), in nats per image.
        "validation_negative_elbo": {k: round(v, 3) for k, v in validation.items()},
        "parameters": int(model.encoder.count_params() + model.decoder.count_params()),
    }
    if splits.image_shape == (28, 28, 1):
        provenance["evaluation"] = _mnist_sample_scores(model, profile)
        provenance["fid"] = provenance["evaluation"]["fid"]["mean"]
    previous.write_text(json.dumps(provenance, indent=2) + "\n")
    print(
        f"Trained {result['step']} steps in {wall:.0f} s; validation negative ELBO "
        f"{validation['loss']:.2f} nats; outputs in {out}/"
    )
    if args.export:
        prefix = Path(args.export)
        prefix.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(weights, prefix.with_name(prefix.name + ".weights.h5"))
        prefix.with_name(prefix.name + ".json").write_text(json.dumps(provenance, indent=2) + "\n")
        print(f"Exported {prefix}.weights.h5 and {prefix}.json")
    return 0


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


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
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
        "--model", default="dcgan28", choices=["dcgan28", "dcgan32", "dcgan64", "vae"]
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
        help="steps between checkpoints and sample grids (default: steps // 20)",
    )
    train.add_argument(
        "--loss",
        default="non_saturating",
        choices=["minimax", "non_saturating", "hinge", "least_squares", "wasserstein"],
    )
    train.add_argument("--width", type=_positive_int, default=None)
    train.add_argument("--latent-dim", type=_positive_int, default=None)
    train.add_argument("--learning-rate", type=float, default=None)
    train.add_argument("--beta-1", type=float, default=None)
    train.add_argument("--seed", type=int, default=0)
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
        type=float,
        default=0.3,
        help="vae only: pixel noise of the gaussian likelihood, on the [-1, 1] scale",
    )
    train.add_argument("--quiet", action="store_true", help="no progress bar")
    train.set_defaults(func=_cmd_train)
    return parser


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
    args = build_parser().parse_args(argv)
    args.argv = argv
    return args.func(args)
