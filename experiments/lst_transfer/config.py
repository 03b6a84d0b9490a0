"""Settings of the synthetic cross-site LST experiment: the full run and the reduced ``--quick`` run (CI).

The paper pre-trained on 430,596 MODTRAN samples.  The full run here simulates :data:`FULL.n_pretrain` = 50,000
samples with the leafjax band model.  The budget is the networks' training: on the 2-core CPU (shared with
other jobs), one epoch over 20,000 rows for five seeds at once took 17–25 s for the Transformer and ≈ 23 s for the
CNN (≈ 1 s for the DNN); the five fine-tuning methods of one network in both directions took ≈ 4–7 minutes; and
every network is trained twice (with and without the WVC × ΔBT feature; the ablation repeats the pre-training,
full and gradual fine-tuning and direct training).  50,000 rows × 4 epochs (Transformer, CNN; 20 for the DNN)
keeps the whole run within 60 minutes.  The number used is written to ``results.json``.
"""

from __future__ import annotations

import dataclasses

#: The two regions: name -> number of sites (3 + 15, as the paper's two regions).
REGIONS: dict[str, int] = {"A": 3, "B": 15}
#: Transfer directions (source region, test region).
DIRECTIONS: tuple[tuple[str, str], ...] = (("A", "B"), ("B", "A"))
#: The networks of the study (``leafjax`` LST networks) and the tree ensembles.
NETWORKS: tuple[str, ...] = ("dnn", "transformer", "cnn")
TREES: tuple[str, ...] = ("rf", "lightgbm")
#: Fine-tuning methods (the shared transfer layer's names; the paper's "adapter" is ``adapters``).
FINETUNE: tuple[str, ...] = ("full", "head", "gradual", "adapters", "lora")
#: Split-window forms fitted on the simulation.
SW_FORMS: tuple[str, ...] = ("gsw", "gsw_wv", "four_channel")


@dataclasses.dataclass(frozen=True)
class Settings:
    """One run's size.  ``n_pretrain``: simulated pre-training samples; ``pretrain_epochs`` / ``finetune_epochs``
    / ``direct_epochs``: passes over the data; ``seeds``: seeds 0..seeds-1 (network initialisation and the error
    draws of the site observations); ``n_boot``: bootstrap resamples of the test sites; ``obs_per_site``: the range
    of observations per site; ``ablation_finetune``: fine-tuning methods repeated without the WVC × ΔBT feature;
    ``invert_max``: at most this many observations per seed go through the physical inversion (all when None)."""

    n_pretrain: int
    pretrain_epochs: dict
    finetune_epochs: int
    direct_epochs: int
    seeds: int
    n_boot: int
    obs_per_site: tuple[int, int] = (40, 80)
    ablation_finetune: tuple[str, ...] = ("full", "gradual")
    invert_max: int | None = None
    batch_size: int = 512
    finetune_batch_size: int = 64
    trees_pretrain_max: int = 50_000


FULL = Settings(n_pretrain=50_000, pretrain_epochs={"dnn": 20, "transformer": 4, "cnn": 4}, finetune_epochs=40,
                direct_epochs=100, seeds=5, n_boot=1000)
QUICK = Settings(n_pretrain=6_000, pretrain_epochs={"dnn": 3, "transformer": 2, "cnn": 2}, finetune_epochs=5, direct_epochs=10, seeds=2, n_boot=100,
                 obs_per_site=(20, 30), ablation_finetune=("full", "gradual"), invert_max=60, trees_pretrain_max=6_000)


def settings(quick: bool, **overrides) -> Settings:
    """The full or quick settings with ``overrides`` (fields of :class:`Settings`; ``None`` values ignored)."""
    base = QUICK if quick else FULL
    if isinstance(overrides.get("pretrain_epochs"), int):
        overrides["pretrain_epochs"] = {k: overrides["pretrain_epochs"] for k in base.pretrain_epochs}
    return dataclasses.replace(base, **{k: v for k, v in overrides.items() if v is not None})
