"""Text to image: a prompt becomes a picture through a frozen text encoder and a generator.

The pipeline, each stage a plain object the chapter can show::

    prompt --(rewrite)--> caption --tokenize--> ids --frozen text encoder--> embedding (64)
           --generator.sample(n, seed, labels=embedding)--> image (32x32x3 in [-1, 1])

* :class:`TextToImage` joins the stages for any generator whose ``sample(n, seed, labels=...)``
  takes (n, 64) text embeddings: the text-conditioned diffusion model trained here and the
  text-conditioned GAN (``text_gan``). The text encoder is ``text.load_pretrained
  ("clip_shapes32")``'s, frozen (Imagen's lesson: a frozen language model as encoder).
* :func:`build_text_diffusion` -- the diffusion chapter's U-Net with a condition *vector*
  (the embedding, added to the time embedding), label dropout (the zero vector is "no
  prompt") for classifier-free guidance, flow matching by default; trained by
  :func:`train_cli` (``python -m ganbook_utils train --model diffusion_text ...``) and shipped
  as ``diffusion_text_shapes32`` (:func:`load_pretrained`).
* :func:`evaluate_adherence` -- GenEval's idea done offline: generate one image per caption of
  an evaluation set, read shape, colour, size and position back with the judge
  (``judge.load_judge()``) and count matches (``judge.adherence``); ``shuffle=True`` is the
  control (each image generated from another image's caption). :func:`adherence_table` gives
  the chapter's table (seen / held-out phrasing / held-out composition / control, next to the
  judge's ceiling on the real images) and :func:`guidance_sweep` the guidance weight ``w``
  against adherence and FID/KID on the judge's features, with the real-vs-real floor.
"""

from __future__ import annotations

import dataclasses
import json
import shlex
import time
import warnings
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from ganbook_utils import checks

WEIGHTS_DIR = Path(__file__).resolve().parent / "weights"
EMBEDDING_DIM = 64  # the text encoder's (text.EMBEDDING_DIM)
IMAGE_SHAPE = (32, 32, 3)
TEXT_ENCODER = "clip_shapes32"
PRETRAINED_TEXT_TO_IMAGE = {
    "diffusion_text_shapes32": "text-conditioned flow-matching U-Net, captioned shapes 32x32x3",
}
# The recipe of the shipped model (what `train --model diffusion_text` uses unless told
# otherwise). Guidance: the default w of `sample`, chosen by the chapter's guidance sweep.
TEXT_DIFFUSION_RECIPE: dict[str, Any] = {
    "objective": "flow",
    "blocks_per_level": 1,
    "label_dropout": 0.1,
    "learning_rate": 1e-3,
    "beta_1": 0.9,
    "guidance": 2.0,
}
# Prompts drawn after every epoch of training (the sample grid shows them evolving).
PREVIEW_PROMPTS = (
    "a small red circle in the top left corner",
    "a large blue square in the center",
    "a medium-sized green triangle in the bottom right corner",
    "a large yellow diamond in the top middle",
    "a small white square in the middle of the left side",
    "a medium-sized purple circle in the bottom middle",
)
# Images generated per call of the generator: bounds the memory of a large evaluation.
GENERATION_CHUNK = 250
ATTRIBUTES = ("shape", "colour", "size", "position")


# --- The pipeline --------------------------------------------------------------------------------


def _prompt_list(prompts: Any, who: str) -> list[str]:
    """One prompt (a string) or a list of them, as a non-empty list of strings."""
    if isinstance(prompts, str):
        return [prompts]
    if prompts is None:
        raise ValueError(f"{who}: no prompt given; pass a string or a list of strings.")
    prompts = list(prompts)
    if not prompts:
        raise ValueError(f"{who}: no prompts given; pass a string or a non-empty list of them.")
    for index, prompt in enumerate(prompts):
        if not isinstance(prompt, str):
            raise TypeError(f"{who}: prompt {index} is a {type(prompt).__name__}, not a string.")
    return prompts


def _chunk_seed(seed: int, chunk: int) -> int:
    """The seed of the ``chunk``-th block of a large generation (block 0 keeps ``seed``)."""
    if chunk == 0:
        return seed
    return int(np.random.SeedSequence([seed, chunk]).generate_state(1)[0])


class UnknownWordsWarning(UserWarning):
    """Some words of a prompt are unknown to the text encoder (read as ``[UNK]``)."""


class TextToImage:
    """Prompt(s) -> (rewrite) -> tokens -> frozen text encoder -> embedding -> generator.

    Args:
        generator: an object with ``sample(n, seed, labels=<(n, 64) float32>, ...)`` returning
            float images in [-1, 1] (the text diffusion model, ``text_gan``'s GAN).
        encoder: the frozen text encoder: ``encode_text(list[str]) -> (N, 64)`` (and, for
            :meth:`stages`, ``tokenize`` and a ``tokenizer`` with ``words`` and ``decode``),
            e.g. ``text.load_pretrained("clip_shapes32")[0]``.
        rewriter: ``prompt -> caption`` used when ``rewrite=True`` (default
            ``prompts.rewrite``, the rule-based stand-in for a language model).
    """

    def __init__(self, generator: Any, encoder: Any, rewriter: Callable[[str], str] | None = None):
        if not callable(getattr(generator, "sample", None)):
            raise TypeError(
                f"TextToImage: generator must have sample(n, seed, labels=...); got "
                f"{type(generator).__name__}."
            )
        if not callable(getattr(encoder, "encode_text", None)):
            raise TypeError(
                "TextToImage: encoder must have encode_text(prompts); got "
                f"{type(encoder).__name__}."
            )
        if rewriter is not None and not callable(rewriter):
            raise TypeError(f"TextToImage: rewriter must be a function; got {rewriter!r}.")
        self.generator, self.encoder, self._rewriter = generator, encoder, rewriter

    @property
    def takes_guidance(self) -> bool:
        """True for a generator with classifier-free guidance (the diffusion model)."""
        return getattr(self.generator, "condition_dim", None) is not None

    def rewrite(self, prompts: Any) -> list[str]:
        """The prompts passed through the rewriter (default ``prompts.rewrite``)."""
        rewriter = self._rewriter
        if rewriter is None:
            from ganbook_utils import prompts as prompts_module

            rewriter = prompts_module.rewrite
        return [rewriter(prompt) for prompt in _prompt_list(prompts, "rewrite")]

    def embed(self, prompts: Any, rewrite: bool = False) -> np.ndarray:
        """The text embeddings (N, 64) float32 of the prompts (rewritten first if asked).

        Raises ValueError (from the encoder) for an empty prompt, one of only unknown words
        (named, with ``rewrite=True`` suggested) or one longer than the encoder's context.
        """
        prompts = _prompt_list(prompts, "TextToImage")
        if rewrite:
            prompts = self.rewrite(prompts)
        embeddings = np.asarray(self.encoder.encode_text(prompts), dtype=np.float32)
        self._warn_unknown_words(prompts)
        if embeddings.shape != (len(prompts), EMBEDDING_DIM):
            raise ValueError(
                f"TextToImage: the encoder gave embeddings of shape {embeddings.shape}; the "
                f"generators take ({len(prompts)}, {EMBEDDING_DIM})."
            )
        return embeddings

    def _warn_unknown_words(self, prompts: list[str]) -> None:
        """An :class:`UnknownWordsWarning` naming the words of ``prompts`` read as ``[UNK]``.

        A prompt of only unknown words is refused by the encoder; one with some known words is
        encoded, and the unknown ones silently steer nothing: the warning says which.
        """
        tokenizer = getattr(self.encoder, "tokenizer", None)
        if not hasattr(tokenizer, "unknown_words"):
            return
        unknown = sorted({word for prompt in prompts for word in tokenizer.unknown_words(prompt)})
        if unknown:
            warnings.warn(
                f"the text encoder does not know {', '.join(repr(w) for w in unknown)}: read as "
                "[UNK], these words do not steer the image. Use the words of the training "
                "captions, or rewrite=True (the CLI's --rewrite).",
                UnknownWordsWarning,
                stacklevel=3,
            )

    def generate_from_embeddings(
        self, embeddings: Any, seed: int = 0, guidance: float | None = None, **options: Any
    ) -> np.ndarray:
        """Images (N, 32, 32, 3) float32 in [-1, 1], one per embedding row.

        Generated in blocks of ``GENERATION_CHUNK``: block 0 uses ``seed`` (so up to that many
        images equal ``generator.sample(n, seed, labels=embeddings)``), block k a seed derived
        from (seed, k). ``guidance`` (w >= 0; None: the model's default) needs a diffusion
        generator; ``options`` (e.g. ``steps``) go to ``generator.sample``.
        """
        seed = checks.integer(seed, "seed", minimum=0, who="TextToImage.generate")
        embeddings = np.asarray(embeddings, dtype=np.float32)
        if embeddings.ndim != 2 or len(embeddings) == 0:
            raise ValueError(
                f"TextToImage.generate: embeddings must be (n, {EMBEDDING_DIM}) with n >= 1; got "
                f"shape {embeddings.shape}."
            )
        if guidance is None and self.takes_guidance:
            guidance = getattr(self.generator, "guidance", None)  # sample() ignores it with labels
        if guidance is not None:
            if not self.takes_guidance:
                raise ValueError(
                    f"guidance is for the diffusion model (classifier-free guidance); the "
                    f"{type(self.generator).__name__} generator takes none."
                )
            options["guidance"] = guidance
        parts = []
        for chunk, start in enumerate(range(0, len(embeddings), GENERATION_CHUNK)):
            block = embeddings[start : start + GENERATION_CHUNK]
            images = self.generator.sample(
                len(block), seed=_chunk_seed(seed, chunk), labels=block, **options
            )
            parts.append(np.asarray(images, dtype=np.float32))
        images = np.concatenate(parts)
        if images.shape[1:] != IMAGE_SHAPE:
            raise ValueError(
                f"TextToImage: the generator made images of shape {images.shape[1:]}; the text "
                f"encoder, judge and chapter expect {IMAGE_SHAPE}."
            )
        return np.clip(images, -1.0, 1.0)

    def generate(
        self,
        prompts: Any,
        seed: int = 0,
        guidance: float | None = None,
        rewrite: bool = False,
        **options: Any,
    ) -> np.ndarray:
        """One image per prompt: float32 (N, 32, 32, 3) in [-1, 1].

        Args:
            prompts: a string or a list of strings (repeat a prompt for several samples).
            seed: fixes the images (the same prompts and seed give the same images).
            guidance: classifier-free guidance weight w >= 0 (diffusion only; 0 is the plain
                conditional model; None: the model's default).
            rewrite: pass each prompt through the rewriter first.
            options: for ``generator.sample`` (e.g. ``steps`` of the diffusion sampler).

        Raises:
            ValueError: for a bad prompt (empty, only unknown words -- named, with the
                rewriter suggested --, too long), guidance for a GAN, bad options.
        """
        embeddings = self.embed(prompts, rewrite=rewrite)
        return self.generate_from_embeddings(embeddings, seed=seed, guidance=guidance, **options)

    def stages(
        self, prompt: str, seed: int = 0, guidance: float | None = None, rewrite: bool = False
    ) -> dict[str, Any]:
        """Every stage of the pipeline for one prompt, for the chapter to show.

        Returns ``{"prompt", "caption" (after the rewriter, or the prompt), "tokens" (the
        words the tokenizer sees), "ids" (int32 (MAX_TOKENS,), 0 pads, 1 unknown),
        "decoded" (the ids back as words), "embedding" (64,), "image" (32, 32, 3) in [-1, 1]}``.
        """
        if not isinstance(prompt, str):
            raise TypeError(f"stages: prompt must be a string; got {type(prompt).__name__}.")
        caption = self.rewrite([prompt])[0] if rewrite else prompt
        embedding = self.embed([caption])
        result: dict[str, Any] = {"prompt": prompt, "caption": caption}
        tokenizer = getattr(self.encoder, "tokenizer", None)
        if tokenizer is not None and callable(getattr(self.encoder, "tokenize", None)):
            ids = np.asarray(self.encoder.tokenize([caption]))[0]
            result.update(
                tokens=tokenizer.words(caption), ids=ids, decoded=tokenizer.decode(ids[None])[0]
            )
        image = self.generate_from_embeddings(embedding, seed=seed, guidance=guidance)[0]
        result.update(embedding=embedding[0], image=image)
        return result


# --- The text-conditioned diffusion model ------------------------------------------------------


def _diffusion_class():
    from ganbook_utils import diffusion

    class TextDiffusion(diffusion.Diffusion):
        """A :class:`~ganbook_utils.diffusion.Diffusion` on text embeddings (``condition_dim``).

        ``preview_labels`` (k, 64): embeddings that :meth:`sample` cycles through when called
        without ``labels`` -- only so that the training sample grid (``sample(n, seed)``)
        shows fixed prompts; otherwise ``labels`` are required, as for the parent.
        """

        def __init__(self, *args: Any, preview_labels: Any = None, **kwargs: Any):
            super().__init__(*args, **kwargs)
            self.preview_labels = (
                None if preview_labels is None else np.asarray(preview_labels, np.float32)
            )

        def default_labels(self, n: int) -> np.ndarray | None:
            if self.preview_labels is None:
                return None
            return self.preview_labels[np.arange(n) % len(self.preview_labels)]

    return TextDiffusion


def build_text_diffusion(
    widths: Sequence[int] = (16, 32, 64),
    *,
    objective: str = TEXT_DIFFUSION_RECIPE["objective"],
    blocks_per_level: int = TEXT_DIFFUSION_RECIPE["blocks_per_level"],
    label_dropout: float = TEXT_DIFFUSION_RECIPE["label_dropout"],
    sampling_steps: int = 20,
    guidance: float | None = TEXT_DIFFUSION_RECIPE["guidance"],
    preview_labels: Any = None,
    seed: int | None = None,
) -> Any:
    """An uncompiled text-conditioned U-Net diffusion model on 32x32x3 images.

    The U-Net is ``diffusion.build_unet(..., condition_dim=64)``: the embedding passes a dense
    layer and is added to the time embedding that every residual block receives. During
    training ``label_dropout`` of the embeddings are replaced by the zero vector ("no prompt"),
    so the one network is also unconditional and classifier-free guidance works.
    """
    from ganbook_utils import diffusion

    widths = tuple(checks.integer(w, "widths", who="build_text_diffusion") for w in widths)
    unet = diffusion.build_unet(
        IMAGE_SHAPE, widths, blocks_per_level, condition_dim=EMBEDDING_DIM, name="text_unet"
    )
    return _diffusion_class()(
        unet,
        objective=objective,
        condition_dim=EMBEDDING_DIM,
        label_dropout=label_dropout,
        sampling_steps=sampling_steps,
        guidance=guidance,
        preview_labels=preview_labels,
        seed=seed,
    )


def compile_text_diffusion(model: Any, learning_rate: float, beta_1: float) -> Any:
    """Adam with the moving average of the weights that sampling uses (the diffusion recipe)."""
    import keras

    from ganbook_utils import diffusion

    model.compile(
        keras.optimizers.Adam(
            learning_rate,
            beta_1=beta_1,
            use_ema=True,
            ema_momentum=diffusion.DENOISER_EMA_MOMENTUM,
        )
    )
    return model


def architecture_record(model: Any, widths: Sequence[int], blocks_per_level: int) -> dict:
    """What :func:`build_from_record` needs to rebuild ``model`` (kept in the provenance)."""
    return {
        "image_shape": list(IMAGE_SHAPE),
        "widths": list(widths),
        "blocks_per_level": blocks_per_level,
        "condition_dim": model.condition_dim,
        "objective": model.objective,
        "schedule": model.schedule.name,
        "timesteps": model.schedule.timesteps,
        "label_dropout": model.label_dropout,
        "sampling_steps": model.sampling_steps,
        "guidance": model.guidance,
    }


def build_from_record(architecture: dict[str, Any]) -> Any:
    """An uncompiled text diffusion model from an :func:`architecture_record`."""
    if architecture.get("condition_dim") != EMBEDDING_DIM:
        raise ValueError(
            f"The record's condition_dim is {architecture.get('condition_dim')!r}; the text "
            f"diffusion model takes {EMBEDDING_DIM}-d text embeddings."
        )
    return build_text_diffusion(
        tuple(architecture["widths"]),
        objective=architecture["objective"],
        blocks_per_level=architecture["blocks_per_level"],
        label_dropout=architecture["label_dropout"],
        sampling_steps=architecture["sampling_steps"],
        guidance=architecture.get("guidance"),
    )


def load_pretrained(
    name: str = "diffusion_text_shapes32", *, weights_dir: str | Path | None = None
) -> tuple[Any, dict[str, Any]] | None:
    """(the shipped text diffusion model, its provenance), or None when it is not shipped.

    Raises ValueError for a name not in :data:`PRETRAINED_TEXT_TO_IMAGE` (unless
    ``weights_dir`` points at an export of your own).
    """
    if weights_dir is None and name not in PRETRAINED_TEXT_TO_IMAGE:
        raise ValueError(
            f"Unknown pretrained text-to-image model {name!r}; choose one of "
            f"{', '.join(PRETRAINED_TEXT_TO_IMAGE)}."
        )
    folder = WEIGHTS_DIR if weights_dir is None else Path(weights_dir)
    record, weights = folder / f"{name}.json", folder / f"{name}.weights.h5"
    if not (record.exists() and weights.exists()):
        return None
    provenance = json.loads(record.read_text())
    model = build_from_record(provenance["architecture"])
    model.denoiser.load_weights(weights)
    return model, provenance


def load_text_encoder(source: str = TEXT_ENCODER) -> tuple[Any, dict[str, Any]]:
    """The frozen text encoder: a shipped name (``clip_shapes32``) or an export prefix
    (``DIR/NAME`` of ``DIR/NAME.weights.h5`` + ``DIR/NAME.json``, made by ``train --model
    clip --export``). Raises ValueError when it is not there."""
    from ganbook_utils import text

    prefix = Path(source)
    if source in text.PRETRAINED_TEXT:
        loaded = text.load_pretrained(source)
        if loaded is None:
            raise ValueError(
                f"The text encoder {source} is not shipped; train it first: python -m "
                f"ganbook_utils train --model clip --out DIR --export {source}."
            )
        return loaded
    record = prefix.with_name(prefix.name + ".json")
    weights = prefix.with_name(prefix.name + ".weights.h5")
    if not (record.exists() and weights.exists()):
        raise ValueError(
            f"text encoder {source!r}: neither a shipped name ({', '.join(text.PRETRAINED_TEXT)}) "
            f"nor an export prefix ({record.name} and {weights.name} not found)."
        )
    provenance = json.loads(record.read_text())
    model = text.build_from_record(provenance["architecture"])
    model.load_weights(weights)
    model.trainable = False
    return model, provenance


def load_pipeline(generator: str = "diffusion_text_shapes32") -> TextToImage | None:
    """A :class:`TextToImage` of the shipped ``generator`` (``diffusion_text_shapes32`` or
    ``gan_text_shapes32``) with the shipped frozen text encoder; None if either is missing."""
    from ganbook_utils import text

    if generator in PRETRAINED_TEXT_TO_IMAGE:
        loaded = load_pretrained(generator)
    else:
        from ganbook_utils import text_gan

        loaded = text_gan.load_pretrained(generator)
    encoder = text.load_pretrained(TEXT_ENCODER)
    if loaded is None or encoder is None:
        return None
    return TextToImage(loaded[0], encoder[0])


def load_chapter_models() -> dict[str, Any]:
    """What the chapter loads: ``{"encoder", "judge", "diffusion", "gan"}`` (each the shipped,
    frozen model, or None when not shipped) and ``{"diffusion_pipeline", "gan_pipeline"}``
    (:class:`TextToImage`, or None)."""
    from ganbook_utils import judge, text, text_gan

    encoder = text.load_pretrained(TEXT_ENCODER)
    diffusion_model = load_pretrained("diffusion_text_shapes32")
    gan = text_gan.load_pretrained("gan_text_shapes32")
    result = {
        "encoder": None if encoder is None else encoder[0],
        "judge": judge.load_judge(),
        "diffusion": None if diffusion_model is None else diffusion_model[0],
        "gan": None if gan is None else gan[0],
    }
    for key in ("diffusion", "gan"):
        ready = result[key] is not None and result["encoder"] is not None
        result[f"{key}_pipeline"] = TextToImage(result[key], result["encoder"]) if ready else None
    return result


# --- Prompt adherence ---------------------------------------------------------------------------


def _check_evaluation_set(image_set: Any, who: str) -> None:
    captions = getattr(image_set, "captions", None)
    attributes = getattr(image_set, "attributes", None)
    if captions is None or attributes is None or any(a not in attributes for a in ATTRIBUTES):
        raise ValueError(
            f"{who}: image_set must be a captioned set from shapes.make_shapes / "
            "shapes.caption_splits (captions and shape/colour/size/position attributes)."
        )
    if tuple(image_set.images.shape[1:]) != IMAGE_SHAPE:
        raise ValueError(
            f"{who}: the images are {tuple(image_set.images.shape[1:])}; the text-to-image "
            f"models and the judge work at {IMAGE_SHAPE} (make_shapes(..., image_size=32))."
        )


def shuffled_order(n: int, seed: int = 0) -> np.ndarray:
    """A random permutation of range(n) with no fixed point: image i gets caption order[i]."""
    n = checks.integer(n, "n", minimum=2, who="shuffled_order")
    permutation = np.random.default_rng(seed).permutation(n)
    order = np.empty(n, dtype=np.int64)
    order[permutation] = np.roll(permutation, 1)  # a cycle through a random order
    return order


def evaluate_adherence(
    pipeline: TextToImage,
    image_set: Any,
    judge: Any,
    *,
    guidance: float | None = None,
    seed: int = 0,
    shuffle: bool = False,
    samples: int | None = None,
    return_images: bool = False,
    **options: Any,
) -> dict[str, Any]:
    """Generate one image per caption of ``image_set``, read it with ``judge``, count matches.

    Args:
        pipeline: a :class:`TextToImage`.
        image_set: a captioned 32x32 set (``shapes.caption_splits(...).evaluation_sets()``).
        judge: an object with ``read(images) -> {"shape", "colour", "size", "position"}``
            (``judge.load_judge()``).
        guidance: w for the diffusion model (None: its default).
        seed: the generation seed (and the shuffle's).
        shuffle: the control: image i is generated from caption ``shuffled_order(n)[i]`` (another
            image's) and scored against image i's own attributes -- what prompt-blind images
            would score (about the chance level).
        samples: use the first ``samples`` captions (default all).
        return_images: also return the generated images (under ``"images"``).
        options: for the generator's ``sample`` (e.g. ``steps``).

    Returns:
        ``judge.adherence``'s dict (``count``, per-attribute accuracy, ``all_four``,
        ``correct``, ``chance``) plus ``guidance``, ``shuffled``, ``seconds`` (generation time).

    Raises:
        ValueError: for a set without captions/attributes, images other than 32x32x3.
    """
    from ganbook_utils import judge as judge_module

    who = "evaluate_adherence"
    _check_evaluation_set(image_set, who)
    if samples is not None:
        samples = checks.integer(samples, "samples", who=who)
        image_set = image_set.subset(slice(0, samples))
    captions = list(image_set.captions)
    if shuffle:
        order = shuffled_order(len(captions), seed)
        captions = [captions[i] for i in order]
    started = time.perf_counter()
    images = pipeline.generate(captions, seed=seed, guidance=guidance, **options)
    seconds = time.perf_counter() - started
    requested = {a: np.asarray(image_set.attributes[a]) for a in ATTRIBUTES}
    result = judge_module.adherence(judge.read(images), requested)
    result.update(
        guidance=_used_guidance(pipeline, guidance), shuffled=bool(shuffle), seconds=seconds
    )
    if return_images:
        result["images"] = images
    return result


def _used_guidance(pipeline: TextToImage, guidance: float | None) -> float | None:
    if not pipeline.takes_guidance:
        return None
    return getattr(pipeline.generator, "guidance", None) if guidance is None else float(guidance)


def _row(name: str, result: dict[str, Any]) -> dict[str, Any]:
    row = {"set": name, "count": result["count"]}
    row.update({key: result[key] for key in (*ATTRIBUTES, "all_four")})
    row["chance_all_four"] = result["chance"]["all_four"]
    return row


def adherence_table(
    pipeline: TextToImage,
    splits: Any,
    judge: Any,
    *,
    guidance: float | None = None,
    seed: int = 0,
    samples: int | None = None,
    **options: Any,
) -> list[dict[str, Any]]:
    """The chapter's adherence table for one generator, one row per set:

    ``real images (judge)`` (the judge on the seen set's real renders: the ceiling), ``seen``,
    ``held-out phrasing``, ``held-out composition`` and ``shuffled control`` (seen captions
    shuffled, :func:`evaluate_adherence` with ``shuffle=True``). Each row: ``set``, ``count``,
    the four accuracies, ``all_four`` and ``chance_all_four``.

    ``splits``: a ``shapes.CaptionSplits`` (its ``evaluation_sets()``) or such a dict.
    """
    from ganbook_utils import judge as judge_module

    sets = splits.evaluation_sets() if hasattr(splits, "evaluation_sets") else dict(splits)
    seen = sets["seen"] if samples is None else sets["seen"].subset(slice(0, samples))
    _check_evaluation_set(seen, "adherence_table")
    rows = [_row("real images (judge)", judge_module.adherence(judge.read(seen.images), seen))]
    kwargs = dict(guidance=guidance, seed=seed, samples=samples, **options)
    for name, image_set in sets.items():
        rows.append(_row(name, evaluate_adherence(pipeline, image_set, judge, **kwargs)))
    control = evaluate_adherence(pipeline, sets["seen"], judge, shuffle=True, **kwargs)
    rows.append(_row("shuffled control", control))
    return rows


def guidance_sweep(
    pipeline: TextToImage,
    image_set: Any,
    judge: Any,
    weights: Sequence[float] = (0.0, 1.0, 2.0, 4.0),
    *,
    seed: int = 0,
    samples: int | None = None,
    kid_subsets: int = 50,
    **options: Any,
) -> list[dict[str, Any]]:
    """Guidance weight w against adherence and FID/KID on the judge's features.

    For each w: :func:`evaluate_adherence` on ``image_set`` and the distances between its real
    images and the generated ones (``judge.feature_distances``). A last row, ``w = None``
    (``"real vs real"``), is the floor: the same distances between the real images and the
    same captions rendered again (:func:`shapes.rerender`: fresh jitter of centre and size).
    Rows: ``w``, the four accuracies, ``all_four``, ``fid``, ``kid``, ``kid_std``, ``seconds``.
    """
    from ganbook_utils import judge as judge_module
    from ganbook_utils import shapes

    if not pipeline.takes_guidance:
        raise ValueError("guidance_sweep needs the diffusion model (the GAN takes no guidance).")
    _check_evaluation_set(image_set, "guidance_sweep")
    if samples is not None:
        image_set = image_set.subset(slice(0, checks.integer(samples, "samples")))
    rows = []
    for w in weights:
        w = checks.number(w, "guidance weight", low=0, who="guidance_sweep")
        result = evaluate_adherence(
            pipeline, image_set, judge, guidance=w, seed=seed, return_images=True, **options
        )
        distances = judge_module.feature_distances(
            judge, image_set.images, result["images"], kid_subsets=kid_subsets, seed=seed
        )
        row = {"w": w, **{k: result[k] for k in (*ATTRIBUTES, "all_four")}, **distances}
        rows.append({**row, "seconds": result["seconds"]})
    # The floor: the same captions rendered again (fresh jitter), so that both sides of the
    # comparison follow the same captions, as the generated images do.
    fresh = shapes.rerender(image_set, seed=seed + 7_000)
    baseline = judge_module.feature_distances(
        judge, image_set.images, fresh.images, kid_subsets=kid_subsets, seed=seed
    )
    rows.append({"w": None, "set": "real vs real", **baseline})
    return rows


def best_guidance(rows: Sequence[dict[str, Any]]) -> float:
    """The w of :func:`guidance_sweep`'s rows with the highest all-four-correct rate."""
    scored = [row for row in rows if row.get("w") is not None]
    if not scored:
        raise ValueError("best_guidance: no guidance rows (w) to choose from.")
    return max(scored, key=lambda row: row["all_four"])["w"]


def format_table(rows: Sequence[dict[str, Any]], first: str = "set") -> str:
    """The rows of :func:`adherence_table` or :func:`guidance_sweep` as aligned plain text
    (accuracies in per cent)."""
    columns = [first, *ATTRIBUTES, "all_four"]
    extra = [key for key in ("fid", "kid", "chance_all_four") if any(key in r for r in rows)]
    columns += extra

    def cell(row: dict[str, Any], key: str) -> str:
        value = row.get(key)
        if key == first:
            return "real vs real" if value is None and "set" in row else str(value)
        if value is None or (isinstance(value, float) and np.isnan(value)):
            return ""
        if key in (*ATTRIBUTES, "all_four", "chance_all_four"):
            return f"{100 * value:.1f} %"
        return f"{value:.4f}" if key == "kid" else f"{value:.2f}"

    table = [columns] + [[cell(row, key) for key in columns] for row in rows]
    widths = [max(len(line[i]) for line in table) for i in range(len(columns))]
    return "\n".join(
        "  ".join(
            text.ljust(w) if i == 0 else text.rjust(w)
            for i, (text, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in table
    )


# --- Training (the CLI's `train --model diffusion_text`) -------------------------------------


def make_caption_pipeline(images: Any, embeddings: Any, batch_size: int, seed: int = 0):
    """A ``tf.data.Dataset`` of ``(images in [-1, 1], embeddings)`` batches, shuffled together:
    the one caption pipeline, :func:`ganbook_utils.text_gan.make_caption_pipeline`, which both
    text-conditioned generators train on.

    Raises ValueError unless ``embeddings`` is (N, d) with one row per image.
    """
    from ganbook_utils import text_gan

    return text_gan.make_caption_pipeline(images, embeddings, batch_size, seed=seed)


@dataclasses.dataclass
class _Budget:
    steps: int
    batch_size: int
    train_size: int
    eval_samples: int
    widths: tuple[int, ...]
    sampling_steps: int


def train_cli(args: Any) -> int:
    """``python -m ganbook_utils train --model diffusion_text --out DIR [--export PREFIX]``.

    Trains the text-conditioned U-Net on ``shapes.caption_splits(train_size, ...).train``
    (seed 0: no held-out composition or phrasing), conditioned on the frozen text encoder's
    embeddings of the captions (``--text-encoder``, default ``clip_shapes32``), with label
    dropout, EMA weights and ``training.fit_resumable`` (run again to resume). The provenance
    records the command, profile, data, steps, wall time, final loss, the text encoder and the
    adherence on seen captions at the default guidance (with the judge, when shipped).
    Returns the exit status.
    """
    import keras

    from ganbook_utils import cli, judge, shapes, training

    profile = cli._train_profile(args)
    out = cli._run_directory(args)
    width = cli._default(args.width, profile.text_diffusion_width)
    budget = _Budget(
        steps=cli._default(args.steps, profile.text_diffusion_steps),
        batch_size=cli._default(args.batch_size, profile.batch_size),
        train_size=cli._default(args.train_size, profile.text_diffusion_train_size),
        eval_samples=profile.text_eval_samples,
        widths=(width, 2 * width, 4 * width),
        sampling_steps=cli._default(args.sampling_steps, profile.text_diffusion_sampling_steps),
    )
    if budget.batch_size > budget.train_size:
        raise cli.UsageError(
            f"--batch-size {budget.batch_size} exceeds --train-size {budget.train_size}."
        )
    guidance = cli._default(args.guidance, TEXT_DIFFUSION_RECIPE["guidance"])
    settings = cli._resumed_settings(
        args,
        cli._saved_run(out),
        {**TEXT_DIFFUSION_RECIPE, "steps_per_epoch": max(1, budget.steps // 20)},
    )
    try:
        encoder, encoder_provenance = load_text_encoder(args.text_encoder)
    except ValueError as error:
        raise cli.UsageError(f"--text-encoder: {error}") from None
    keras.utils.set_random_seed(args.seed)
    splits = shapes.caption_splits(budget.train_size, budget.eval_samples, seed=0)
    embeddings = encoder.encode_text(splits.train.captions)
    model = build_text_diffusion(
        budget.widths,
        objective=args.objective,
        sampling_steps=budget.sampling_steps,
        guidance=guidance,
        preview_labels=encoder.encode_text(list(PREVIEW_PROMPTS)),
        seed=args.seed,
    )
    compile_text_diffusion(model, settings["learning_rate"], settings["beta_1"])
    pipeline = make_caption_pipeline(
        splits.train.images, embeddings, budget.batch_size, seed=args.seed
    )
    cli._record_command(training, out, args)
    try:
        result = training.fit_resumable(
            model,
            pipeline,
            budget.steps,
            out,
            steps_per_epoch=settings["steps_per_epoch"],
            samples=2 * len(PREVIEW_PROMPTS),  # each preview prompt twice: a cheap grid
            progress=not args.quiet,
        )
    except training.CheckpointError as error:
        raise cli.UsageError(
            f"--out {out}: {error} (resume with the --width and settings of the run that made "
            "it, or choose a new --out)"
        ) from None
    if result["diverged"]:
        return 1  # the DivergenceGuard has printed why
    from ganbook_utils import diffusion

    weights = out / "denoiser.weights.h5"
    cli._save_weights_atomic(lambda path: diffusion.save_weights(model, path), weights)
    history = result["history"]
    ran = training.optimizer_settings(model)["optimizer"]
    provenance = {
        "command": "python -m ganbook_utils " + shlex.join(args.argv),
        "profile": profile.name,
        "model": "diffusion_text",
        "architecture": architecture_record(model, budget.widths, 1),
        "text_encoder": {
            "name": args.text_encoder,
            "command": encoder_provenance.get("command"),
            "steps": encoder_provenance.get("steps"),
            "embedding_dim": EMBEDDING_DIM,
            "frozen": True,
        },
        "learning_rate": ran["learning_rate"],
        "beta_1": ran["beta_1"],
        "ema_momentum": diffusion.DENOISER_EMA_MOMENTUM,
        "batch_size": budget.batch_size,
        "steps_per_epoch": settings["steps_per_epoch"],
        "data": {
            "name": "shapes32 captions",
            "source": "ganbook_utils.shapes.caption_splits (procedural, seed 0)",
            "description": (
                "caption_splits(...).train: seen (shape, colour) pairs and training phrasings, "
                "each image conditioned on its caption's frozen text embedding"
            ),
            "train_images": budget.train_size,
            "held_out_compositions": [list(pair) for pair in shapes.HELD_OUT_COMPOSITIONS],
            "held_out_caption_templates": list(shapes.HELD_OUT_CAPTION_TEMPLATES),
        },
        "steps": result["step"],
        "seed": args.seed,
        # Training time summed over every resumed run (up to its last checkpoint).
        "wall_time_s": round(result["wall_time_s"], 1),
        "final_losses": {k: v[-1] for k, v in history.items() if k != "step" and v},
        "parameters": int(model.denoiser.count_params()),
    }
    reader = judge.load_judge()
    if reader is None:
        provenance["adherence_seen"] = "not measured: the judge (judge_shapes32) is not shipped"
        measured = ""
    else:
        seen = evaluate_adherence(TextToImage(model, encoder), splits.seen, reader, seed=0)
        provenance["adherence_seen"] = {
            "guidance": guidance,
            "sampling_steps": budget.sampling_steps,
            "samples": seen["count"],
            **{key: round(seen[key], 4) for key in (*ATTRIBUTES, "all_four")},
            "judge": reader.provenance.get("command", "judge_shapes32"),
        }
        measured = f"; seen captions all-four {seen['all_four']:.1%} at w = {guidance:g}"
    print(
        f"Trained {result['step']} steps in {result['wall_time_s']:.0f} s{measured}; "
        f"outputs in {out}/"
    )
    cli._write_outputs(out, provenance, weights, args.export)
    return 0
