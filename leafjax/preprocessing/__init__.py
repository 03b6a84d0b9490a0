"""Composable preprocessing of leaf spectra: pure functions of a :class:`~leafjax.data.SpectralDataset` that
return ``(result, StepReport)`` saying what they changed; chain them with :func:`compose`.  Also the features of
other inputs: thermal bands (LST) and the Sentinel-1/2 LAI chips (seasonality, normalised inputs and targets)."""

from ._bands import (
    WATER_BANDS_NM as WATER_BANDS_NM,
    band_mask as band_mask,
    drop_missing_bands as drop_missing_bands,
    missing_band_mask as missing_band_mask,
)
from ._outliers import WHITE_BACKGROUND_NIR as WHITE_BACKGROUND_NIR, flag_outliers as flag_outliers
from ._pipeline import Pipeline as Pipeline, Step as Step, compose as compose
from ._report import StepReport as StepReport
from ._resample import resample as resample, savgol as savgol
from ._s1s2_inputs import (
    BACKSCATTER_SCALE_DB as BACKSCATTER_SCALE_DB,
    LAI_SCALE as LAI_SCALE,
    normalise_backscatter as normalise_backscatter,
    s1s2_inputs as s1s2_inputs,
    s1s2_targets as s1s2_targets,
    scl_mask_channels as scl_mask_channels,
    scl_valid as scl_valid,
)
from ._scale import PERCENT_THRESHOLD as PERCENT_THRESHOLD, detect_percent as detect_percent, to_fraction as to_fraction
from ._seasonality import (
    seasonality as seasonality,
    seasonality_maps as seasonality_maps,
    triangle_wave as triangle_wave,
    year_fraction as year_fraction,
)
from ._splice import (
    ASD_JOINS_NM as ASD_JOINS_NM,
    SVC_JOINS_NM as SVC_JOINS_NM,
    correct_splice_steps as correct_splice_steps,
)
from ._thermal import (
    LST_BANDS as LST_BANDS,
    LST_TARGET as LST_TARGET,
    lst_feature_names as lst_feature_names,
    lst_features as lst_features,
)
