"""Evaluation protocol: leave-one-group-out (LODO when the group is the dataset) and k-target-sample splits,
metrics with bootstrap intervals, the generic runner over the method interface of :mod:`leafjax.methods`
(re-exported here), cross-fitted predictions of the target sample, calibration of prediction intervals from the
target sample, and reports (tables and figures).  Everything works on any :class:`~leafjax.data.AbstractDataset`
(leaf spectra, image tiles, thermal tables) grouped by any column (dataset, site, parcel)."""

from ._calibration import (
    CALIBRATIONS as CALIBRATIONS,
    VarianceScaling as VarianceScaling,
    absolute_conformal_interval as absolute_conformal_interval,
    calibrated_interval as calibrated_interval,
    conformal_quantile as conformal_quantile,
    conformal_rank as conformal_rank,
    fit_variance_scaling as fit_variance_scaling,
    normalised_conformal_interval as normalised_conformal_interval,
    variance_scaled_interval as variance_scaled_interval,
)

from ._coverage import (
    DEFAULT_LEVEL as DEFAULT_LEVEL,
    coverage_table as coverage_table,
    gaussian_coverage as gaussian_coverage,
    gaussian_interval as gaussian_interval,
    interval_coverage as interval_coverage,
)
from ._crossfit import CrossFit as CrossFit, cross_fit as cross_fit, fold_ids as fold_ids
from ._metrics import (
    METRICS as METRICS,
    bias as bias,
    bootstrap_distribution as bootstrap_distribution,
    mae as mae,
    nrmse as nrmse,
    nrmse_mean as nrmse_mean,
    r2 as r2,
    rmse as rmse,
    score as score,
)
from ..methods import AbstractMethod as AbstractMethod, AbstractTraitMethod as AbstractTraitMethod, Task as Task
from ._protocol import COLUMNS as COLUMNS, run_evaluation as run_evaluation
from ._report import (
    plot_predicted_vs_measured as plot_predicted_vs_measured,
    to_markdown as to_markdown,
    write_tables as write_tables,
)
from ._splits import (
    DEFAULT_KS as DEFAULT_KS,
    MIN_TEST as MIN_TEST,
    Split as Split,
    k_target_splits as k_target_splits,
    labelled_rows as labelled_rows,
    lodo_splits as lodo_splits,
    logo_splits as logo_splits,
)
from ._summary import overview as overview, summarise as summarise
