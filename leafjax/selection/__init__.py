"""leafjax.selection: describe a dataset by meta-features computed without its labels, recommend the best
method per trait, and evaluate the recommendation by nested leave-one-dataset-out (accuracy and regret)."""

from ._meta import (
    INSTRUMENT_FAMILIES as INSTRUMENT_FAMILIES,
    REGIONS as REGIONS,
    dataset_meta_features as dataset_meta_features,
    meta_features as meta_features,
    source_distance as source_distance,
)
from ._nested import (
    inner_performance_by_evaluation as inner_performance_by_evaluation,
    leave_out_rows as leave_out_rows,
    nested_lodo_selection as nested_lodo_selection,
    performance_table as performance_table,
    selection_summary as selection_summary,
)
from ._recommend import NearestNeighbourRecommender as NearestNeighbourRecommender
