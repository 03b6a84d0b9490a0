"""Gradient-based batch inversion: one :func:`invert` for every problem (leaf spectra, canopy bands), solvers
passed as objects, Laplace uncertainty with derived quantities, implicit-function gradients; leaf/soil
spectra from canopy reflectance; and the water-cloud calibration on real Sentinel-1/2 chips."""

from ._bounds import to_bounded as to_bounded, to_unconstrained as to_unconstrained
from ._problem import AbstractProblem as AbstractProblem
from ._leaf import (
    LEAF_EXPECTED_RMSE as LEAF_EXPECTED_RMSE,
    InversionProblem as InversionProblem,
    LeafProblem as LeafProblem,
    make_problem as make_problem,
)
from ._quality import spectrum_quality as spectrum_quality
from ._canopy_problem import CanopyProblem as CanopyProblem
from ._solver import AbstractBatchedSolver as AbstractBatchedSolver, SolverState as SolverState
from ._solver_lm import BatchedLevenbergMarquardt as BatchedLevenbergMarquardt
from ._solver_optx import OptimistixLM as OptimistixLM
from ._solver_adam import Adam as Adam
from ._invert import invert as invert
from ._implicit import implicit_solution as implicit_solution
from ._lm import levenberg_marquardt as levenberg_marquardt
from ._result import InversionResult as InversionResult, Status as Status
from ._strategies import (
    N_PRIOR_BANDS as N_PRIOR_BANDS,
    SUBDOMAINS as SUBDOMAINS,
    invert_spectra as invert_spectra,
    n_struct_prior as n_struct_prior,
)
from ._lut import (
    LUT_PRODUCTS as LUT_PRODUCTS,
    LookupTable as LookupTable,
    build_lut as build_lut,
    query_lut as query_lut,
)
from ._canopy import (
    CANOPY_PRODUCTS as CANOPY_PRODUCTS,
    CANOPY_SIGMA as CANOPY_SIGMA,
    CanopyInversionResult as CanopyInversionResult,
    invert_canopy as invert_canopy,
    make_canopy_problem as make_canopy_problem,
)
from ._retrieval import (
    SpectraRetrieval as SpectraRetrieval,
    free_to_spectra as free_to_spectra,
    retrieve_free_spectra as retrieve_free_spectra,
    retrieve_prospect_soil as retrieve_prospect_soil,
    second_difference_penalty as second_difference_penalty,
    spectra_to_free as spectra_to_free,
)
from ._lst import LstProblem as LstProblem, invert_lst as invert_lst, make_lst_problem as make_lst_problem
from ._band_fit import (band_model_cache_dir as band_model_cache_dir, cached_band_model as cached_band_model,
                        fit_band_model as fit_band_model)
from ._band_fit import band_model_errors as band_model_errors
from ._wcm_invert import (WaterCloudProblem as WaterCloudProblem, invert_water_cloud as invert_water_cloud,
                          make_water_cloud_problem as make_water_cloud_problem)
from ._wcm_fit import (ASSUMED_INCIDENCE_DEG as ASSUMED_INCIDENCE_DEG, NOMINAL_SOIL_MOISTURE as NOMINAL_SOIL_MOISTURE,
                       WcmFit as WcmFit, WcmFitData as WcmFitData, fit_water_cloud as fit_water_cloud,
                       sample_realism_stats as sample_realism_stats, wcm_fit_data as wcm_fit_data)
from ._voxel import (
    ImageObservation as ImageObservation,
    VoxelProspectProblem as VoxelProspectProblem,
    VoxelRetrieval as VoxelRetrieval,
    VoxelSpectraProblem as VoxelSpectraProblem,
    make_voxel_prospect_problem as make_voxel_prospect_problem,
    make_voxel_spectra_problem as make_voxel_spectra_problem,
    retrieve_voxel_prospect as retrieve_voxel_prospect,
    retrieve_voxel_spectra as retrieve_voxel_spectra,
)
from ._recalibration import (
    Corrections as ProspectCorrections,
    corrected_problem as corrected_problem,
    invert_corrected as invert_corrected,
    packaged_corrections as packaged_corrections,
    recalibrate as recalibrate,
    recalibration_loss as recalibration_loss,
    trait_estimates as trait_estimates,
)
