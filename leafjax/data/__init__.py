"""Leaf spectra datasets: the :class:`SpectralDataset` container and readers (shared parquet, EcoSIS CSV,
generic tables with a column mapping, embedded demo), percent detection, and :class:`AbstractDataset`, the
interface any dataset type implements to take part in :mod:`leafjax.methods` and :mod:`leafjax.evaluation`; readers
of the thermal reference data and of Sentinel-1/2 LAI chips in the challenge naming (:func:`load_s1s2_sample`).
Plausibility checks of trait labels, reported per dataset and excluded from training by default:
:func:`label_plausibility` and :func:`exclude_implausible`.

Example:
    >>> from leafjax.data import load_demo
    >>> ds = load_demo()          # 120 leaves, 400–2400 nm every 5 nm, CC BY 4.0 (see data/demo/README.md)
    >>> ds.traits_available()
    ['ewt', 'lma', 'nitrogen', 'nitrogen_area']
"""

from ._abstract import AbstractDataset as AbstractDataset, DATA_KINDS as DATA_KINDS
from ._columns import (
    ColumnError as ColumnError,
    ecosis_spectral_columns as ecosis_spectral_columns,
    gsti_spectral_columns as gsti_spectral_columns,
)
from ._describe import describe as describe
from ._dataset import META_COLUMNS as META_COLUMNS, SpectralDataset as SpectralDataset, concat as concat
from ._percent import (
    MAX_PERCENT as MAX_PERCENT,
    PERCENT_THRESHOLD as PERCENT_THRESHOLD,
    detect_percent as detect_percent,
)
from ._readers import (
    KNOWN_QUIRKS as KNOWN_QUIRKS,
    LEAF_PARQUET_TRAITS as LEAF_PARQUET_TRAITS,
    ColumnMapping as ColumnMapping,
    load_demo as load_demo,
    load_shared_datasets as load_shared_datasets,
    read_ecosis_csv as read_ecosis_csv,
    read_leaf_parquet as read_leaf_parquet,
    read_table as read_table,
)
from ._thermal import (
    LAND_EMISSIVITY_COLUMNS as LAND_EMISSIVITY_COLUMNS,
    LwirTruth as LwirTruth,
    TigrProfiles as TigrProfiles,
    load_continuum as load_continuum,
    load_lwir_truth as load_lwir_truth,
    load_tigr as load_tigr,
    load_us_standard as load_us_standard,
    split_truth as split_truth,
    truth_band_brightness_temperature as truth_band_brightness_temperature,
)
from ._s1s2 import (
    S1_CHANNELS as S1_CHANNELS,
    SCL_CLASSES as SCL_CLASSES,
    VALID_SCL as VALID_SCL,
    ChipName as ChipName,
    S1S2Chip as S1S2Chip,
    lai_file_problem as lai_file_problem,
    load_s1s2_sample as load_s1s2_sample,
    parse_chip_name as parse_chip_name,
    read_s1s2_chip as read_s1s2_chip,
    s1s2_chip_names as s1s2_chip_names,
    scl_classes as scl_classes,
)
from ._timestack import TimeStack as TimeStack, stack_from_s1s2 as stack_from_s1s2
from ._plausibility import (
    MEASURED_LEAF_RANGES as MEASURED_LEAF_RANGES,
    REASONS as REASONS,
    SPECTRAL_REGIONS as SPECTRAL_REGIONS,
    LabelChecks as LabelChecks,
    PlausibilityRules as PlausibilityRules,
    exclude_implausible as exclude_implausible,
    label_plausibility as label_plausibility,
    plausibility_table as plausibility_table,
)
