"""ProspectInversion as an evaluation method: recovers PROSPECT-PRO traits from noise-free spectra and shares
one inversion between traits through its cache."""

import numpy as np
import pytest

from leafjax.baselines import ProspectInversion
from leafjax.data._dataset import SpectralDataset
from leafjax.physics import ProspectPro, ProspectProParams


@pytest.mark.slow
def test_inversion_method_recovers_simulated_traits():
    wl = np.arange(1700.0, 2401.0, 25.0)
    prot, cbc, ewt = np.array([0.0010, 0.0015, 0.0020]), np.array([0.006, 0.008, 0.010]), np.array([0.010, 0.012, 0.015])
    params = ProspectProParams(n_struct=np.full(3, 1.5), chl=np.full(3, 40.0), car=np.full(3, 10.0),
                               ant=np.zeros(3), brown=np.zeros(3), ewt=ewt, prot=prot, cbc=cbc)
    r = np.asarray(ProspectPro(wavelengths=wl)(params).reflectance)
    ds = SpectralDataset.from_arrays(wl, r, lma=prot + cbc, ewt=ewt)
    cache = {}
    m = ProspectInversion(window=(1700.0, 2400.0), cache=cache)
    assert not m.uses_train and not m.uses_target_sample
    lma = m.predict(m.fit(ds, "lma"), ds)
    np.testing.assert_allclose(lma, prot + cbc, rtol=0.05)
    est, std, resid = m.predict_with_std("ewt", ds)
    np.testing.assert_allclose(est, ewt, rtol=0.05)
    assert np.all(std >= 0) and np.all(resid < 1e-3)
    assert len(cache) == 1
    with pytest.raises(ValueError, match="chl"):
        m.fit(ds, "chl")
