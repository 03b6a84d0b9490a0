"""Fit quality in archive outputs: the ``quality_flags`` column (at a bound, all zero, negative, shifted
wavelengths), ``--percent`` on a fraction file refused, small inputs not padded to a full chunk, and results
independent of the padding."""

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import leafjax as lj
import leafjax.archive._leaf as leaf_task
from leafjax.archive import ArchiveSettings, invert_archive
from leafjax.archive._rows import DIAGNOSTIC_COLUMNS, pad_size
from leafjax.simulation import Fixed, Prior, Uniform, simulate

GRID = np.arange(400, 2401, 20)  # fine enough for the wavelength-shift check
FINE = np.arange(400, 2501, 1.0)
PRIOR = Prior({"n_struct": Uniform(1.2, 2.2), "chl": Uniform(20.0, 70.0), "car": Uniform(4.0, 12.0),
               "ant": Fixed(0.0), "brown": Fixed(0.0), "ewt": Uniform(0.005, 0.02), "lma": Uniform(0.003, 0.01)})
FREE = ("n_struct", "chl", "car", "ewt", "lma")
#: The RMSE of 0.5 % multiplicative noise on these spectra (the instrument of these tests).
NOISE_RMSE = 0.0015


@pytest.fixture(scope="module")
def spectra():
    """Six leaves on a 1-nm grid (R, T), to be written at their own or at shifted wavelengths."""
    _, r, t = simulate(lj.ProspectD(wavelengths=FINE, dtype=jnp.float64), PRIOR, 6, jax.random.key(4))
    return np.asarray(r), np.asarray(t)


def _table(path, r_fine, t_fine, shift=0.0, edit=None):
    r = np.stack([np.interp(GRID + shift, FINE, x) for x in r_fine])
    t = np.stack([np.interp(GRID + shift, FINE, x) for x in t_fine])
    if edit is not None:
        edit(r, t)
    cols = {"sample_id": [f"leaf-{i}" for i in range(len(r))]}
    cols.update({f"R_{w}": r[:, i] for i, w in enumerate(GRID)})
    cols.update({f"T_{w}": t[:, i] for i, w in enumerate(GRID)})
    pd.DataFrame(cols).to_parquet(path, index=False)
    return path


def _settings(**kw):
    return ArchiveSettings(**{"model": "prospect-d", "chunk_size": 4, "free": FREE, "dtype": "float64",
                              "expected_rmse": NOISE_RMSE, **kw})


def test_pad_size_is_the_smallest_bucket_from_64_up_to_the_chunk():
    assert [pad_size(n, 4096) for n in (1, 2, 63, 64, 65, 1000, 1025, 4095, 4096)] == [
        64, 64, 64, 64, 128, 1024, 2048, 4096, 4096]
    assert pad_size(5, 6) == 6 and pad_size(0, 16) == 0 and pad_size(100, 200) == 128 and pad_size(150, 200) == 200
    assert len({pad_size(n, 4096) for n in range(1, 4097)}) == 7  # 64 ... 4096: seven programs per setting


def test_quality_flags_column_with_bound_zero_and_negative_rows(spectra, tmp_path):
    def edit(r, t):
        r[1], t[1] = 0.0, 0.0  # a missing spectrum written as zeros
        r[2], t[2] = r[2] / 100, t[2] / 100  # a fraction row divided by 100 (what --percent does to fractions)
        r[3, 4] = -0.01

    path = _table(tmp_path / "in.parquet", *(x[:4] for x in spectra), edit=edit)
    invert_archive(path, tmp_path / "out.parquet", _settings(), progress=False)
    res = pd.read_parquet(tmp_path / "out.parquet")
    assert "quality_flags" in res.columns and "flags" not in res.columns
    assert tuple(res.columns[-4:]) == DIAGNOSTIC_COLUMNS
    flags = [set(f.split(";")) if f else set() for f in res["quality_flags"]]
    assert res["status"].tolist()[1] == "invalid_input" and "all_zero" in flags[1] and np.isnan(res.loc[1, "chl"])
    assert "at_bound:chl" in flags[2] and res.loc[2, "status"] == "converged"
    assert "negative" in flags[3] and res.loc[3, "status"] == "converged"
    assert not any(f.startswith("at_bound") for f in flags[0] | flags[3])


def test_percent_on_a_fraction_file_is_refused_before_compute(spectra, tmp_path):
    path = _table(tmp_path / "in.parquet", *(x[:2] for x in spectra))
    with pytest.raises(ValueError, match="--percent given but the spectra look like fractions"):
        invert_archive(path, tmp_path / "out.parquet", _settings(percent=True), progress=False)
    assert not (tmp_path / "out.parquet").exists()


def test_shifted_wavelength_file_is_flagged(spectra, tmp_path):
    path = _table(tmp_path / "in.parquet", *(x[:4] for x in spectra), shift=10.0)  # R(λ + 10) under label λ
    invert_archive(path, tmp_path / "out.parquet", _settings(), progress=False)
    flags = pd.read_parquet(tmp_path / "out.parquet")["quality_flags"]
    assert all("suspected_wavelength_shift" in f and "poor_fit" in f for f in flags), flags.tolist()
    clean = _table(tmp_path / "clean.parquet", *(x[:4] for x in spectra))
    invert_archive(clean, tmp_path / "clean_out.parquet", _settings(), progress=False)
    assert not any("shift" in f for f in pd.read_parquet(tmp_path / "clean_out.parquet")["quality_flags"])


def test_one_row_archive_is_solved_at_the_smallest_bucket(spectra, tmp_path, monkeypatch):
    sizes = []
    real = leaf_task._invert

    def recording(state, r, t):  # the chunk's solve (its compiled program may come from the cache: no trace)
        sizes.append(r.shape[0])
        return real(state, r, t)

    monkeypatch.setattr(leaf_task, "_invert", recording)
    path = _table(tmp_path / "one.parquet", *(x[:1] for x in spectra))
    invert_archive(path, tmp_path / "out.parquet", _settings(chunk_size=4096), progress=False)
    assert sizes == [pad_size(1, 4096)] == [64]  # not the full chunk of 4,096
    assert pd.read_parquet(tmp_path / "out.parquet")["status"].tolist() == ["converged"]


def test_estimates_do_not_depend_on_the_padding(spectra, tmp_path):
    path = _table(tmp_path / "in.parquet", *(x[:3] for x in spectra))
    invert_archive(path, tmp_path / "a.parquet", _settings(chunk_size=2), progress=False)  # solved at 2, then 1
    invert_archive(path, tmp_path / "b.parquet", _settings(chunk_size=4), progress=False)  # solved at 4
    a, b = pd.read_parquet(tmp_path / "a.parquet"), pd.read_parquet(tmp_path / "b.parquet")
    for name in FREE:
        np.testing.assert_array_equal(a[name], b[name], err_msg=name)
    assert a["quality_flags"].tolist() == b["quality_flags"].tolist()
