"""Parameter pytrees: PROSPECT-PRO's lma rule, nitrogen helpers, constants table."""

import jax.numpy as jnp
import numpy as np
import pytest

import leafjax as lj


def test_pro_rejects_lma_with_prot_cbc():
    with pytest.raises(ValueError, match="lma = prot \\+ cbc"):
        lj.ProspectProParams(n_struct=1.5, chl=40.0, car=8.0, prot=0.001, cbc=0.005, lma=0.006)
    with pytest.raises(ValueError, match="needs both prot and cbc"):
        lj.ProspectProParams(n_struct=1.5, chl=40.0, car=8.0, prot=0.001)


def test_pro_derived_traits():
    p = lj.ProspectProParams(n_struct=1.5, chl=40.0, car=8.0, prot=0.001, cbc=0.004)
    assert float(p.lma) == pytest.approx(0.005)
    # nitrogen = 100 * (prot / 4.43) / (prot + cbc)
    assert float(p.nitrogen) == pytest.approx(100 * 0.001 / 4.43 / 0.005)
    assert float(lj.nitrogen_area_from_protein(0.001)) == pytest.approx(1e4 * 0.001 / 4.43)


def test_pro_with_zero_protein_equals_d_with_cbc_scaled_dry_matter():
    """With prot = 0 both models differ only through k_cbc vs k_cm: check that the k-sum is what we think."""
    wl = np.arange(400, 2401, 50)
    pro = lj.ProspectPro(wavelengths=wl)
    consts = pro.constants
    d_consts = lj.OpticalConstants(**{**{f: getattr(consts, f) for f in
                                         ("wavelengths", "nr", "k_cab", "k_car", "k_anth", "k_brown", "k_cw",
                                          "k_prot", "k_cbc")}, "k_cm": consts.k_cbc})
    a = pro(lj.ProspectProParams(n_struct=1.7, chl=30.0, car=6.0, ewt=0.01, prot=0.0, cbc=0.004))
    b = lj.prospect_d(lj.ProspectDParams(n_struct=1.7, chl=30.0, car=6.0, ewt=0.01, lma=0.004), d_consts)
    np.testing.assert_allclose(a.reflectance, b.reflectance, rtol=1e-14)


def test_constants_table_and_bounds():
    c = lj.load_optical_constants()
    assert c.n_bands == 2101
    assert float(c.wavelengths[0]) == 400 and float(c.wavelengths[-1]) == 2500
    # k_anth non-zero only below 690 nm, k_prot only from 1433 nm (data README)
    wl = np.asarray(c.wavelengths)
    assert np.all(np.asarray(c.k_anth)[wl >= 690] == 0) and np.any(np.asarray(c.k_anth)[wl < 690] > 0)
    assert np.all(np.asarray(c.k_prot)[wl < 1433] == 0)
    assert lj.bounds("chl") == (1e-4, 150.0)
    with pytest.raises(ValueError, match="unknown trait"):
        lj.bounds("chlorophyll")
    c32 = c.astype(jnp.float32)
    assert c32.k_cab.dtype == jnp.float32


def test_get_leaf_model_by_name():
    assert isinstance(lj.get_leaf_model("prospect-pro"), lj.ProspectPro)
    with pytest.raises(ValueError, match="unknown leaf model"):
        lj.get_leaf_model("prospect-5")
