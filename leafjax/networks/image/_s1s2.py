"""The multi-temporal Sentinel-1/2 LAI networks of Wang et al. (LeafNothingBehind): LAI at date t from S1
backscatter at t−2, t−1, t, the S2 LAI product at t−2, t−1 with its scene-classification masks, and the season.

Inputs are one dict batch (built by :func:`~leafjax.preprocessing.s1s2_inputs`; other keys, e.g. the targets,
are ignored):

* ``"s1"`` ``(batch, 3, 2, h, w)``: σ⁰ at t−2, t−1, t, two polarisations, ``dB / 30 + 1``;
* ``"lai"`` ``(batch, 2, h, w)``: S2 LAI / 5 at t−2, t−1;
* ``"lai_mask"`` ``(batch, 2, m, h, w)``: per date ``m`` mask channels (6 in the paper: validity and one-hot SCL
  classes 2–6);
* ``"season"`` ``(batch, 2)``: the two triangle waves of the date (:func:`~leafjax.preprocessing.seasonality`).

Models (all predict LAI(t) / 5 as a map ``(batch, h, w)``; :meth:`outputs` gives a dict of maps):

* :class:`S1S2UNet`: the stem embeds the inputs it uses as in the reference code (a 1×1 convolution, shared by the
  two dates, of each date's mask channels to 2 channels; a 2 -> 2 -> 1 perceptron of the season broadcast to one
  channel), stacks them with the S1 and/or LAI channels and applies a U-Net (:class:`~.UNet`'s blocks and head).
  With both S1 and LAI it is the single-network baseline (one U-Net on all the inputs stacked).
* :class:`Sodium`: the radar branch (S1 at three dates, the masks, the season).
* :class:`Aluminium`: the optical branch (LAI at t−2, t−1, the masks, the season).
* :class:`Strontium`: the fused model: both branches' 32-channel feature maps (the maps their heads see)
  concatenated into a third U-Net; :meth:`Strontium.outputs` also returns each branch's own prediction (its head
  on its features), for the auxiliary losses of :class:`~leafjax.training.FusedMapMSE` (weights 0.1 radar, 0.15
  optical in the reference configuration).

Fine-tuning groups: for every model ``stem`` (the input embedding; for :class:`Strontium` both branches entirely,
and the fusion's first convolution), ``blocks`` (its U-Net blocks; the fusion U-Net's for :class:`Strontium`) and
``head``.

Reference: Wang, Debouchage, Goldité, Wery & Salzinger (2023) "Leveraging multi-temporal Sentinel-1 and 2
satellite data for leaf area index estimation with deep learning" (code: github.com/valentingol/LeafNothingBehind,
``lnb/architecture/models.py``, ``config/models.yaml``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import jax
import jax.numpy as jnp
from flax import nnx
from jaxtyping import Array, Float

from ._unet import AbstractUNet, unet_blocks, unet_widths

#: Keys of the input batch.
S1, LAI, LAI_MASK, SEASON = "s1", "lai", "lai_mask", "season"
#: Dates of the S1 input (t−2, t−1, t), of the S2 inputs (t−2, t−1), polarisations, seasonality features.
N_S1_DATES, N_S2_DATES, N_POLARISATIONS, N_SEASON = 3, 2, 2, 2


def _get(inputs: Mapping[str, Any], key: str, ndim: int, lead: tuple[int, ...], dtype) -> Array:
    """``inputs[key]`` checked to have ``ndim`` axes starting ``(batch, *lead)`` (``ValueError``), cast."""
    if key not in inputs:
        raise ValueError(f"the input batch has no {key!r} (keys: {', '.join(inputs)})")
    a = jnp.asarray(inputs[key])
    if a.ndim != ndim or tuple(a.shape[1:1 + len(lead)]) != lead:
        raise ValueError(f"input {key!r} needs shape (batch, {', '.join(map(str, lead))}, ...) with {ndim} axes, "
                         f"got {a.shape}")
    return a.astype(dtype)


class S1S2Stem(nnx.Module):
    """Embedding of the S1/S2 inputs into the first channels-last map ``(batch, h, w, c0)``.

    Channels stacked (in this order, each if used): S1 (6 = 3 dates × 2 polarisations), LAI (2 dates), the masks
    of each S2 date through one shared 1×1 convolution ``m -> mask_embedding`` (2 × 2), the season through
    ``Linear(2, season_hidden) -> relu -> Linear(., season_embedding)`` broadcast over the chip (1); then a k×k
    convolution to ``c0``.  ``n_channels`` is the number of stacked channels."""

    def __init__(self, c0: int, *, use_s1: bool, use_lai: bool, use_masks: bool = True, use_season: bool = True,
                 n_mask_channels: int = 6, mask_embedding: int = 2, season_hidden: int = 2, season_embedding: int = 1,
                 kernel_size: int = 3, param_dtype=jnp.float32, rngs: nnx.Rngs):
        if not (use_s1 or use_lai or use_masks):
            raise ValueError("an S1/S2 model needs at least one of S1, LAI or the masks")
        self.use_s1, self.use_lai, self.use_masks, self.use_season = use_s1, use_lai, use_masks, use_season
        self.n_mask_channels, self.param_dtype = n_mask_channels, param_dtype
        self.n_channels = (N_S1_DATES * N_POLARISATIONS * use_s1 + N_S2_DATES * use_lai
                           + N_S2_DATES * mask_embedding * use_masks + season_embedding * use_season)
        kw = dict(param_dtype=param_dtype, rngs=rngs)
        self.mask_conv = nnx.Conv(n_mask_channels, mask_embedding, (1, 1), **kw) if use_masks else None
        self.season_hidden = nnx.Linear(N_SEASON, season_hidden, **kw) if use_season else None
        self.season_out = nnx.Linear(season_hidden, season_embedding, **kw) if use_season else None
        self.conv = nnx.Conv(self.n_channels, c0, (kernel_size, kernel_size), padding="SAME", **kw)

    def stacked(self, inputs: Mapping[str, Any]) -> Float[Array, "batch h w n"]:
        """The stacked channels ``(batch, h, w, n_channels)`` before the convolution."""
        dt, parts = self.param_dtype, []
        if self.use_s1:
            s1 = _get(inputs, S1, 5, (N_S1_DATES, N_POLARISATIONS), dt)
            parts.append(jnp.reshape(s1, (s1.shape[0], -1, *s1.shape[3:])))
        if self.use_lai:
            parts.append(_get(inputs, LAI, 4, (N_S2_DATES,), dt))
        hw = parts[0].shape[2:] if parts else None
        chans = [jnp.transpose(p, (0, 2, 3, 1)) for p in parts]
        if self.use_masks:
            masks = _get(inputs, LAI_MASK, 5, (N_S2_DATES, self.n_mask_channels), dt)
            hw = masks.shape[3:]
            chans += [self.mask_conv(jnp.transpose(masks[:, d], (0, 2, 3, 1))) for d in range(N_S2_DATES)]
        if self.use_season:
            season = _get(inputs, SEASON, 2, (N_SEASON,), dt)
            emb = self.season_out(jax.nn.relu(self.season_hidden(season)))
            chans.append(jnp.broadcast_to(emb[:, None, None, :], (emb.shape[0], *hw, emb.shape[1])))
        if len({c.shape[:3] for c in chans}) != 1:
            raise ValueError(f"the inputs disagree on (batch, h, w): {[c.shape[:3] for c in chans]}")
        return jnp.concatenate(chans, axis=-1)

    def __call__(self, inputs: Mapping[str, Any]) -> Float[Array, "batch h w c0"]:
        return self.conv(self.stacked(inputs))


class S1S2UNet(AbstractUNet):
    """One U-Net on the S1/S2 inputs it uses (module docstring): the single-network baseline by default (all the
    inputs stacked), the base of :class:`Sodium` and :class:`Aluminium`.

    **Arguments:** ``use_s1``, ``use_lai``, ``use_masks``, ``use_season`` (which inputs; ablations drop some);
    ``n_mask_channels`` (6: ``lai_mask``'s channels per date), ``mask_embedding`` (2), ``season_hidden`` (2),
    ``season_embedding`` (1) (the reference code's sizes); ``base_channels`` (32: the first level's width, that of
    :meth:`features`), ``depth`` (2: the paper's 32/64/128 levels), ``multiplier``, ``kernel_size``, ``groups``
    (GroupNorm), ``param_dtype``, ``rngs``.  Sizes ``h, w``: any (padded inside to multiples of ``2**depth``).

    Example:
        >>> import jax.numpy as jnp
        >>> from flax import nnx
        >>> net = Sodium(base_channels=4, depth=1, rngs=nnx.Rngs(0))
        >>> x = {"s1": jnp.zeros((2, 3, 2, 8, 8)), "lai_mask": jnp.ones((2, 2, 6, 8, 8)),
        ...      "season": jnp.zeros((2, 2))}
        >>> y, f = nnx.jit(lambda m, x: (m(x), m.features(x)))(net, x)
        >>> y.shape, f.shape
        ((2, 8, 8), (2, 4, 8, 8))
    """

    def __init__(self, *, use_s1: bool = True, use_lai: bool = True, use_masks: bool = True,
                 use_season: bool = True, n_mask_channels: int = 6, mask_embedding: int = 2, season_hidden: int = 2,
                 season_embedding: int = 1, base_channels: int = 32, depth: int = 2, multiplier: int = 2,
                 kernel_size: int = 3, groups: int = 8, param_dtype=jnp.float32, rngs: nnx.Rngs):
        widths = unet_widths(base_channels, depth, multiplier)
        self.stem = S1S2Stem(widths[0], use_s1=use_s1, use_lai=use_lai, use_masks=use_masks, use_season=use_season,
                             n_mask_channels=n_mask_channels, mask_embedding=mask_embedding,
                             season_hidden=season_hidden, season_embedding=season_embedding,
                             kernel_size=kernel_size, param_dtype=param_dtype, rngs=rngs)
        self.n_inputs, self.n_outputs = self.stem.n_channels, 1
        self.depth, self.feature_channels = depth, widths[0]
        self.blocks = unet_blocks(widths, kernel_size=kernel_size, groups=groups, param_dtype=param_dtype, rngs=rngs)
        self.head = nnx.Conv(widths[0], 1, (1, 1), param_dtype=param_dtype, rngs=rngs)

    def features_last(self, inputs: Mapping[str, Any]) -> Float[Array, "batch h w c0"]:
        """The feature map, channels-last ``(batch, h, w, base_channels)``."""
        return self.trunk(self.stem(inputs))

    def features(self, inputs: Mapping[str, Any]) -> Float[Array, "batch c0 h w"]:
        """The feature map ``(batch, base_channels, h, w)`` the head sees (what :class:`Strontium` fuses)."""
        return jnp.transpose(self.features_last(inputs), (0, 3, 1, 2))

    def outputs(self, inputs: Mapping[str, Any]) -> dict[str, Float[Array, "batch h w"]]:
        """``{"lai": LAI(t) / 5 (batch, h, w)}``."""
        return {"lai": self.head_map(self.features_last(inputs))[..., 0]}

    def __call__(self, inputs: Mapping[str, Any]) -> Float[Array, "batch h w"]:
        return self.outputs(inputs)["lai"]


class Sodium(S1S2UNet):
    """The radar branch: S1 VV/VH at t−2, t−1, t, the S2 masks of t−2, t−1 (as in the reference code; drop them with
    ``use_masks=False`` for a model that sees no optical information) and the season -> LAI(t) / 5.  Arguments as
    :class:`S1S2UNet` (without ``use_s1``/``use_lai``)."""

    def __init__(self, *, use_masks: bool = True, use_season: bool = True, rngs: nnx.Rngs, **kwargs):
        super().__init__(use_s1=True, use_lai=False, use_masks=use_masks, use_season=use_season, rngs=rngs, **kwargs)


class Aluminium(S1S2UNet):
    """The optical branch: S2 LAI at t−2, t−1 with their masks, and the season -> LAI(t) / 5.  Arguments as
    :class:`S1S2UNet` (without ``use_s1``/``use_lai``)."""

    def __init__(self, *, use_masks: bool = True, use_season: bool = True, rngs: nnx.Rngs, **kwargs):
        super().__init__(use_s1=False, use_lai=True, use_masks=use_masks, use_season=use_season, rngs=rngs, **kwargs)


class FusionStem(nnx.Module):
    """The stem of :class:`Strontium`: the two branch networks and a k×k convolution of their concatenated
    channels-last feature maps to the fusion U-Net's first width.  ``__call__`` returns ``(h0 (batch, h, w, c0),
    radar features (batch, h, w, c_r), optical features (batch, h, w, c_o))``."""

    def __init__(self, radar: S1S2UNet, optical: S1S2UNet, c0: int, *, kernel_size: int = 3,
                 param_dtype=jnp.float32, rngs: nnx.Rngs):
        self.radar, self.optical = radar, optical
        self.n_channels = radar.feature_channels + optical.feature_channels
        self.conv = nnx.Conv(self.n_channels, c0, (kernel_size, kernel_size), padding="SAME",
                             param_dtype=param_dtype, rngs=rngs)

    def __call__(self, inputs: Mapping[str, Any]):
        fr, fo = self.radar.features_last(inputs), self.optical.features_last(inputs)
        return self.conv(jnp.concatenate([fr, fo], axis=-1)), fr, fo


class Strontium(AbstractUNet):
    """The fused model: :class:`Sodium` and :class:`Aluminium` feature maps (32 channels each by default)
    concatenated into a third U-Net (64/128/256 in the paper) -> LAI(t) / 5; :meth:`outputs` adds each branch's
    prediction (its own head on its features) for the auxiliary losses.

    **Arguments:** ``radar``, ``optical``: the branches (e.g. pre-trained :class:`Sodium` / :class:`Aluminium`;
    copied), or ``None`` to build new ones with ``branch_kwargs`` (for both; e.g. ``base_channels``,
    ``n_mask_channels``); ``base_channels`` (64), ``depth`` (2), ``multiplier``, ``kernel_size``, ``groups``:
    the fusion U-Net; ``param_dtype``, ``rngs``.

    Groups: ``stem`` = :class:`FusionStem` (both branches, their heads included, and the fusion's first
    convolution: gradual unfreezing reaches the branches last), ``blocks`` = the fusion U-Net's blocks, ``head`` =
    its 1×1 convolution.  Bottleneck adapters go after the fusion blocks; LoRA wraps every convolution and dense
    kernel, the branches' included.

    Example:
        >>> import jax.numpy as jnp
        >>> from flax import nnx
        >>> net = Strontium(base_channels=4, depth=1, branch_kwargs={"base_channels": 4, "depth": 1},
        ...                 rngs=nnx.Rngs(0))
        >>> x = {"s1": jnp.zeros((1, 3, 2, 8, 8)), "lai": jnp.zeros((1, 2, 8, 8)),
        ...      "lai_mask": jnp.ones((1, 2, 6, 8, 8)), "season": jnp.zeros((1, 2))}
        >>> out = nnx.jit(lambda m, x: m.outputs(x))(net, x)
        >>> {k: v.shape for k, v in out.items()}
        {'lai': (1, 8, 8), 'optical': (1, 8, 8), 'radar': (1, 8, 8)}
    """

    def __init__(self, radar: S1S2UNet | None = None, optical: S1S2UNet | None = None, *,
                 branch_kwargs: dict[str, Any] | None = None, base_channels: int = 64, depth: int = 2,
                 multiplier: int = 2, kernel_size: int = 3, groups: int = 8, param_dtype=jnp.float32,
                 rngs: nnx.Rngs):
        bkw = {"kernel_size": kernel_size, "groups": groups, "param_dtype": param_dtype, **(branch_kwargs or {})}
        radar = Sodium(rngs=rngs, **bkw) if radar is None else nnx.clone(radar)
        optical = Aluminium(rngs=rngs, **bkw) if optical is None else nnx.clone(optical)
        widths = unet_widths(base_channels, depth, multiplier)
        self.stem = FusionStem(radar, optical, widths[0], kernel_size=kernel_size, param_dtype=param_dtype,
                               rngs=rngs)
        self.n_inputs, self.n_outputs = self.stem.n_channels, 1
        self.depth, self.feature_channels = depth, widths[0]
        self.blocks = unet_blocks(widths, kernel_size=kernel_size, groups=groups, param_dtype=param_dtype, rngs=rngs)
        self.head = nnx.Conv(widths[0], 1, (1, 1), param_dtype=param_dtype, rngs=rngs)

    def outputs(self, inputs: Mapping[str, Any]) -> dict[str, Float[Array, "batch h w"]]:
        """``{"lai": fused LAI(t) / 5, "radar": the radar branch's, "optical": the optical branch's}``, each
        ``(batch, h, w)``."""
        h0, fr, fo = self.stem(inputs)
        return {"lai": self.head_map(self.trunk(h0))[..., 0],
                "radar": self.stem.radar.head_map(fr)[..., 0],
                "optical": self.stem.optical.head_map(fo)[..., 0]}

    def features(self, inputs: Mapping[str, Any]) -> Float[Array, "batch c0 h w"]:
        """The fusion U-Net's feature map ``(batch, base_channels, h, w)``."""
        return jnp.transpose(self.trunk(self.stem(inputs)[0]), (0, 3, 1, 2))

    def __call__(self, inputs: Mapping[str, Any]) -> Float[Array, "batch h w"]:
        return self.outputs(inputs)["lai"]
