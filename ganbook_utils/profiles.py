"""Compute budgets: the one place where a step count, data size or sample count is chosen.

Three profiles share one switch, the ``GANBOOK_PROFILE`` environment variable:

* ``smoke`` -- seconds per notebook; what the tests run.
* ``cpu``   -- the book build on a laptop (minutes per chapter).
* ``gpu``   -- full training, e.g. on Colab.

When the variable is unset, ``gpu`` is chosen if TensorFlow sees a GPU, else ``cpu``.
Chapters call :func:`get_profile` once, print it, and read every budget from it.
"""

from __future__ import annotations

import dataclasses
import os
import textwrap

ENV_VAR = "GANBOOK_PROFILE"
PROFILE_NAMES = ("smoke", "cpu", "gpu")
# A fraction in (0, 1] that scales every ``*_steps`` budget, e.g. 0.1 for a quick check of the
# gpu profile (tools/gpu_check.sh); unset means the full budgets.
QUICK_ENV_VAR = "GANBOOK_QUICK"


@dataclasses.dataclass(frozen=True)
class Profile:
    """Every budget a chapter may need. Add a field here, never a constant in a chapter."""

    name: str
    # Data: how many images each chapter may use, and the batch size of GAN/VAE steps.
    train_size: int
    val_size: int
    batch_size: int
    # Preprocessing chapter: batches timed when measuring pipeline throughput.
    pipeline_benchmark_batches: int
    # Toy 2-D GAN on a mixture of Gaussians.
    toy_gan_steps: int
    toy_gan_samples: int  # generated points scored for mode coverage
    toy_gan_seeds: int  # seeds of the toy chapter's comparison (its takeaways count over them)
    # DCGAN at 28x28x1 (MNIST) and the seed's 64x64x3 model (shapes / faces): the CLI's
    # default steps (on the cpu profile what the shipped weights were trained for) and the
    # DCGAN chapter's live runs (the rest of the chapter loads the shipped weights).
    dcgan_steps: int
    dcgan_live_steps: int
    dcgan64_steps: int
    dcgan64_live_steps: int
    dcgan64_train_size: int
    # Channel width of the 64x64 model: 64 is the seed's architecture; less trains on a CPU.
    dcgan64_width: int
    # Variational autoencoders.
    vae_steps: int
    vae_latent_map_steps: int
    vae_live_steps: int  # the VAE chapter's live run (the rest loads the shipped VAEs)
    # Domain classifier that supplies features for FID/IS on MNIST.
    classifier_steps: int
    # Evaluation: samples drawn for FID/IS/KID/PR, and subsets for KID.
    fid_samples: int
    kid_subsets: int
    metric_repeats: int  # independent draws of generated samples, for confidence intervals
    # Mathematics chapter: Monte-Carlo samples and optimisation steps of numerical checks.
    monte_carlo_samples: int
    math_check_steps: int
    # Diffusion chapter: training steps of the shipped U-Nets (the CLI's default), the live
    # run, the U-Net's base width (levels of width, 2x, 4x), the default sampling steps, and
    # the generated samples per FID in the chapter's sweeps (steps, guidance, families), and
    # the most sampling steps of its FID-over-steps sweep (of 1, 2, 5, 10, 20, 50).
    diffusion_steps: int
    diffusion_live_steps: int
    diffusion_width: int
    diffusion_sampling_steps: int
    diffusion_eval_samples: int
    diffusion_sweep_max_steps: int
    # Text-to-image chapter: the dual (text, image) encoder's training steps, training images
    # and images per evaluation set (seen / held-out phrasing / held-out composition).
    text_encoder_steps: int
    text_encoder_train_size: int
    text_encoder_eval_size: int
    # Text-conditioned GAN: the CLI's default training steps (the shipped model's own count is
    # in its provenance), its training images (caption_splits(...).train), captions per eval set.
    conditional_gan_steps: int
    conditional_gan_train_size: int
    conditional_gan_eval_size: int
    # Text-to-image chapter (book/10): the live runs of the dual encoder and of the
    # text-conditioned GAN (the diffusion model's is text_diffusion_live_steps).
    text_encoder_live_steps: int
    text_gan_live_steps: int
    # Text-conditioned diffusion model: training steps of the shipped U-Net (the CLI's
    # default), the chapter's live run, training images, base width, sampling steps, and the
    # images per evaluation set of the adherence tables and the guidance sweep.
    text_diffusion_steps: int
    text_diffusion_live_steps: int
    text_diffusion_train_size: int
    text_diffusion_width: int
    text_diffusion_sampling_steps: int
    text_eval_samples: int
    # The judge of prompt adherence (ganbook_utils.judge): training steps, fresh renders it
    # trains on, and held-out renders of its accuracy check and corruption table.
    judge_steps: int
    judge_train_size: int
    judge_eval_size: int
    # Graded assignments (assignments/): the DCGAN and VAE training runs a student makes.
    assignment_gan_steps: int
    assignment_gan_width: int
    assignment_vae_steps: int

    def __str__(self) -> str:
        budgets = [f"{f.name}={getattr(self, f.name):,}" for f in dataclasses.fields(self)[1:]]
        lines = textwrap.wrap("  ".join(budgets), width=70, break_on_hyphens=False)
        header = f"Profile '{self.name}' (set {ENV_VAR}=smoke|cpu|gpu to change it). Budgets:"
        return "\n".join([header, *("  " + line for line in lines)])


_PROFILES = {
    "smoke": Profile(
        name="smoke",
        train_size=512,
        val_size=256,
        batch_size=32,
        pipeline_benchmark_batches=8,
        toy_gan_steps=200,
        toy_gan_samples=1_000,
        toy_gan_seeds=2,
        dcgan_steps=20,
        dcgan_live_steps=20,
        dcgan64_steps=4,
        dcgan64_live_steps=4,
        dcgan64_train_size=128,
        dcgan64_width=8,
        vae_steps=20,
        vae_latent_map_steps=20,
        vae_live_steps=20,
        classifier_steps=30,
        fid_samples=256,
        kid_subsets=10,
        metric_repeats=3,
        monte_carlo_samples=20_000,
        math_check_steps=300,
        diffusion_steps=20,
        diffusion_live_steps=10,
        diffusion_width=8,
        diffusion_sampling_steps=4,
        diffusion_eval_samples=128,
        diffusion_sweep_max_steps=4,
        text_encoder_steps=20,
        text_encoder_train_size=512,
        text_encoder_eval_size=200,
        conditional_gan_steps=20,
        conditional_gan_train_size=512,
        conditional_gan_eval_size=200,
        text_encoder_live_steps=10,
        text_gan_live_steps=4,
        text_diffusion_steps=20,
        text_diffusion_live_steps=10,
        text_diffusion_train_size=512,
        text_diffusion_width=8,
        text_diffusion_sampling_steps=4,
        text_eval_samples=32,
        judge_steps=20,
        judge_train_size=512,
        judge_eval_size=200,
        assignment_gan_steps=300,  # at 100 the trained FID was above the untrained one
        assignment_gan_width=16,
        assignment_vae_steps=50,
    ),
    "cpu": Profile(
        name="cpu",
        train_size=5_000,
        val_size=1_000,
        batch_size=64,
        pipeline_benchmark_batches=50,
        toy_gan_steps=3_000,
        toy_gan_samples=2_000,
        toy_gan_seeds=3,
        dcgan_steps=18_000,  # the shipped dcgan28_mnist: 617 s on 2 idle cores
        dcgan_live_steps=1_500,
        dcgan64_steps=12_000,  # the shipped dcgan64_shapes: 991 s on 2 idle cores
        dcgan64_live_steps=300,
        dcgan64_train_size=4_000,
        dcgan64_width=16,
        vae_steps=3_000,
        vae_latent_map_steps=2_000,
        vae_live_steps=400,
        classifier_steps=1_500,
        fid_samples=2_000,
        kid_subsets=50,
        metric_repeats=5,
        monte_carlo_samples=400_000,
        math_check_steps=2_000,
        diffusion_steps=2_000,
        diffusion_live_steps=60,
        diffusion_width=16,
        diffusion_sampling_steps=20,
        # 250 samples per FID, steps sweep to 20, a 60-step live run: at 500, 50 and 150 the
        # chapter ran over 11 min on 2 idle cores and was cut in its steps sweep (live run: 158 s).
        diffusion_eval_samples=250,
        diffusion_sweep_max_steps=20,
        text_encoder_steps=2_000,
        text_encoder_train_size=20_000,
        text_encoder_eval_size=1_000,
        conditional_gan_steps=3_000,
        conditional_gan_train_size=20_000,
        conditional_gan_eval_size=1_000,
        text_encoder_live_steps=100,
        text_gan_live_steps=100,
        text_diffusion_steps=4_000,
        text_diffusion_live_steps=100,
        text_diffusion_train_size=20_000,
        text_diffusion_width=16,
        # 12 steps and 130 images per set (the fewest FID on the judge's 128 features allows):
        # at 16 and 200 the chapter's cpu run was cut at 20 min in cell 43 of 72 (load 5-10).
        text_diffusion_sampling_steps=12,
        text_eval_samples=130,
        judge_steps=1_800,
        judge_train_size=20_000,
        judge_eval_size=2_000,
        assignment_gan_steps=2_000,
        assignment_gan_width=32,
        assignment_vae_steps=1_500,
    ),
    "gpu": Profile(
        name="gpu",
        train_size=60_000,
        val_size=10_000,
        batch_size=128,
        pipeline_benchmark_batches=200,
        toy_gan_steps=10_000,
        toy_gan_samples=5_000,
        toy_gan_seeds=3,
        dcgan_steps=20_000,
        dcgan_live_steps=5_000,
        dcgan64_steps=20_000,
        dcgan64_live_steps=5_000,
        dcgan64_train_size=50_000,
        dcgan64_width=64,
        vae_steps=20_000,
        vae_latent_map_steps=10_000,
        vae_live_steps=2_000,
        classifier_steps=5_000,
        fid_samples=10_000,
        kid_subsets=100,
        metric_repeats=10,
        monte_carlo_samples=2_000_000,
        math_check_steps=5_000,
        diffusion_steps=20_000,
        diffusion_live_steps=2_000,
        diffusion_width=32,
        diffusion_sampling_steps=50,
        diffusion_eval_samples=5_000,
        diffusion_sweep_max_steps=50,
        text_encoder_steps=10_000,
        text_encoder_train_size=50_000,
        text_encoder_eval_size=2_000,
        conditional_gan_steps=20_000,
        conditional_gan_train_size=50_000,
        conditional_gan_eval_size=2_000,
        text_encoder_live_steps=1_000,
        text_gan_live_steps=1_000,
        text_diffusion_steps=20_000,
        text_diffusion_live_steps=1_000,
        text_diffusion_train_size=50_000,
        text_diffusion_width=32,
        text_diffusion_sampling_steps=32,
        text_eval_samples=1_000,
        judge_steps=6_000,
        judge_train_size=50_000,
        judge_eval_size=5_000,
        assignment_gan_steps=5_000,
        assignment_gan_width=32,
        assignment_vae_steps=5_000,
    ),
}


def gpu_available() -> bool:
    """True when TensorFlow sees at least one GPU (imports TensorFlow lazily)."""
    import tensorflow as tf

    return bool(tf.config.list_physical_devices("GPU"))


def default_profile_name() -> str:
    """``gpu`` if a GPU is visible, else ``cpu``."""
    return "gpu" if gpu_available() else "cpu"


def get_profile(name: str | None = None) -> Profile:
    """Return the named profile, else the one ``GANBOOK_PROFILE`` names, else the default.

    Raises:
        ValueError: if the name is not one of ``smoke``, ``cpu``, ``gpu``.
    """
    chosen = name if name is not None else os.environ.get(ENV_VAR, "").strip()
    if not chosen:
        chosen = default_profile_name()
    chosen = chosen.lower()
    if chosen not in _PROFILES:
        raise ValueError(
            f"Unknown profile {chosen!r} (from {'the argument' if name else ENV_VAR}). "
            f"Choose one of {', '.join(PROFILE_NAMES)}, e.g. `export {ENV_VAR}=smoke`."
        )
    return _quick(_PROFILES[chosen], os.environ.get(QUICK_ENV_VAR, "").strip())


def _quick(profile: Profile, fraction: str) -> Profile:
    """``profile`` with every ``*_steps`` budget times ``fraction`` (at least 1 step).

    Raises ValueError unless ``fraction`` is empty or a number in (0, 1].
    """
    if not fraction:
        return profile
    try:
        scale = float(fraction)
    except ValueError:
        scale = 0.0
    if not 0 < scale <= 1:
        raise ValueError(
            f"{QUICK_ENV_VAR} must be a fraction in (0, 1], e.g. 0.1; got {fraction!r}."
        )
    steps = {
        field.name: max(1, round(getattr(profile, field.name) * scale))
        for field in dataclasses.fields(profile)
        if field.name.endswith("_steps")
    }
    return dataclasses.replace(profile, **steps)
