"""Configurations of the multi-temporal Sentinel-1/2 LAI study: the CPU run (committed numbers), a quick smoke
run (tests), and the paper-size run for an accelerator."""

from __future__ import annotations

import dataclasses

from leafjax.simulation import CROP_CLASSES, SceneConfig, SoilMoistureSettings


@dataclasses.dataclass(frozen=True)
class StudyConfig:
    """Sizes of one run.

    **Chips:** ``size`` (pixels, square), ``n_train`` / ``n_val`` / ``n_test`` chips of the source region,
    ``n_shift_train`` / ``n_shift_val`` / ``n_shift_test`` of the shifted region.  **Networks:** ``branch_base``
    (Sodium/Aluminium and the single U-Net first width), ``fused_base`` (Strontium), ``depth``, ``batch_size``,
    ``learning_rate``.  **Budgets (epochs):** ``epochs_branch`` (stage 1 and the single-modality models),
    ``epochs_fused`` (stage 2, also the from-scratch fused ablation), ``epochs_finetune`` (per stage of a
    fine-tuning method), ``patience``.  **S2 product:** ``route_n`` simulations and ``route_ensemble`` members of
    the hybrid route.  **Baselines:** ``gbm_pixels`` (training pixels of the per-pixel LightGBM),
    ``wcm_pixels_per_chip`` (pixels per test chip inverted by the water-cloud model).  ``n_boot`` bootstrap
    resamples over test chips.
    """

    size: int = 64
    n_train: int = 512
    n_val: int = 64
    n_test: int = 128
    n_shift_train: int = 48
    n_shift_val: int = 16
    n_shift_test: int = 96
    branch_base: int = 8
    fused_base: int = 16
    depth: int = 2
    batch_size: int = 8
    learning_rate: float = 2e-3
    epochs_branch: int = 30
    epochs_fused: int = 20
    epochs_finetune: int = 15
    patience: int = 6
    route_n: int = 20_000
    route_ensemble: int = 2
    gbm_pixels: int = 200_000
    wcm_pixels_per_chip: int = 1024
    n_boot: int = 1000


CONFIGS: dict[str, StudyConfig] = {
    "cpu": StudyConfig(),
    "quick": StudyConfig(size=16, n_train=12, n_val=4, n_test=8, n_shift_train=6, n_shift_val=2, n_shift_test=6,
                         branch_base=4, fused_base=8, depth=1, batch_size=4, epochs_branch=2, epochs_fused=2,
                         epochs_finetune=1, patience=2, route_n=2_000, route_ensemble=1, gbm_pixels=3_000,
                         wcm_pixels_per_chip=32, n_boot=50),
    # the paper's size (256 x 256 chips, branches 32/64/128, fusion 64/128/256, batch 16): an accelerator run
    "gpu": StudyConfig(size=256, n_train=2048, n_val=128, n_test=256, n_shift_train=128, n_shift_val=32,
                       n_shift_test=256, branch_base=32, fused_base=64, batch_size=16, learning_rate=1e-3,
                       epochs_branch=40, epochs_fused=30, epochs_finetune=20, patience=8, route_n=50_000,
                       route_ensemble=5, gbm_pixels=1_000_000, wcm_pixels_per_chip=4096, n_boot=1000),
}


def _shifted_classes():
    """The shifted region's crop table: a later (northern) season by 12 days, more grassland and spring cereal,
    less maize and winter cereal, taller spring crops."""
    shares = {"winter_cereal": 0.12, "spring_cereal": 0.28, "maize": 0.08, "grassland": 0.36, "bare_fallow": 0.13,
              "water": 0.03}
    out = []
    for c in CROP_CLASSES:
        changes = {"share": shares[c.name]}
        if not c.water:
            changes["sos"] = (c.sos[0] + 12.0, c.sos[1])
            changes["eos"] = (c.eos[0] + 12.0, c.eos[1])
            if c.harvest[0] < 900:
                changes["harvest"] = (c.harvest[0] + 12.0, c.harvest[1])
        if c.name == "spring_cereal":
            changes["lai_amplitude"] = (3.4, 0.8)
        out.append(dataclasses.replace(c, **changes))
    return tuple(out)


def scene_config(cfg: StudyConfig, region: str = "source") -> SceneConfig:
    """The simulator settings of the ``"source"`` region (the simulator's defaults, the product also at t) or of
    the ``"shifted"`` region (north-east: latitudes 54–60° N, the later season and other crop mix of
    :func:`_shifted_classes`, smaller parcels, rain on 35 % of the days)."""
    if region == "source":
        return SceneConfig(size=cfg.size, product_at_t=True)
    if region == "shifted":
        return SceneConfig(size=cfg.size, product_at_t=True, classes=_shifted_classes(), latitude=(54.0, 60.0),
                           parcel_px=30.0, soil=SoilMoistureSettings(rain_probability=0.35))
    raise ValueError(f"unknown region {region!r}: 'source' or 'shifted'")
