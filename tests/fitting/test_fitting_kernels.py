"""The fit kernels against dense, independent implementations of eqs. 14–18."""

import numpy as np
import pytest
import scipy.optimize

from mdf_neel.fitting import _kernels as K


def _cplx(rng, *shape):
    return rng.normal(size=shape) + 1j * rng.normal(size=shape)


def test_eq15_equals_lstsq_row_by_row(rng):
    S = _cplx(rng, 7, 30)
    Phi = _cplx(rng, 7, 30)
    a = K.transfer_function_lstsq(S, Phi)
    for k in range(7):
        ref, *_ = np.linalg.lstsq(Phi[k][:, None], S[k], rcond=None)
        assert a[k] == pytest.approx(ref[0], rel=1e-12)
        # zero gradient of ||a Φ - S||² with respect to a (complex Wirtinger derivative)
        grad = np.vdot(Phi[k], a[k] * Phi[k] - S[k])
        assert abs(grad) < 1e-10 * np.linalg.norm(S[k]) * np.linalg.norm(Phi[k])


def test_eq15_without_conjugate_is_wrong(rng):
    # eq. 15 needs the conjugate: the plain transpose does not minimise eq. 14
    S = _cplx(rng, 30)
    Phi = _cplx(rng, 30)
    plain = np.sum(S * Phi) / np.sum(np.abs(Phi) ** 2)
    best = K.transfer_function_lstsq(S, Phi)
    assert np.linalg.norm(best * Phi - S) < np.linalg.norm(plain * Phi - S)


def test_eq15_zero_row_guard():
    assert K.transfer_function_lstsq(np.ones(4), np.zeros(4)) == 0


def _setup(rng, n_d=2, n_k=3, A=3, C=2, F=4, O=6):
    phi = _cplx(rng, n_d, n_k, A + 1, C, F + 2, O)  # extra angle and rows: exercise the view
    S = _cplx(rng, A, C, F, O)
    view = K.DictionaryView(phi, angle_index=[2, 0, 3], channel_index=[0, 1], row_index=[1, 2, 4, 5])
    data = K.FitData(S)
    J = n_d * n_k
    # dense per-atom arrays (J, A, C, F, O)
    dense = phi[:, :, [2, 0, 3]][:, :, :, :, [1, 2, 4, 5]].reshape(J, A, C, F, O)
    return data, view, dense


def test_row_statistics_and_closed_form_residual(rng):
    data, view, dense = _setup(rng)
    num, den = K.row_statistics(data, view)
    tf, res = K.per_angle_residuals(data, num, den)
    explicit_tf = K.transfer_function_lstsq(data.S[None], dense)
    np.testing.assert_allclose(tf, explicit_tf, rtol=1e-12)
    explicit_res = np.sum(np.abs(data.S[None] - explicit_tf[..., None] * dense) ** 2, axis=-1)
    np.testing.assert_allclose(res, explicit_res, rtol=1e-10)


def test_shared_tf_is_weighted_lstsq_over_angles(rng):
    data, view, dense = _setup(rng)
    num, den = K.row_statistics(data, view)
    tf, res = K.shared_residuals(data, num, den)
    j, c, f = 4, 1, 2
    sw = np.sqrt(data.omega[:, c, f])[:, None]
    lhs = (sw * dense[j, :, c, f]).reshape(-1, 1)
    rhs = (sw * data.S[:, c, f]).reshape(-1)
    ref, *_ = np.linalg.lstsq(lhs, rhs, rcond=None)
    assert tf[j, c, f] == pytest.approx(ref[0], rel=1e-12)
    explicit = np.sum(np.abs(data.S[:, c, f] - tf[j, c, f] * dense[j, :, c, f]) ** 2, axis=-1)
    np.testing.assert_allclose(res[j, :, c, f], explicit, rtol=1e-10)


def _dense_m2(data, dense):
    """Stacked weighted M2 matrix (rows = (a, c, f, ν)) and y, formed explicitly."""
    tf = K.transfer_function_lstsq(data.S[None], dense)  # (J, A, C, F)
    sw = np.sqrt(data.omega)[..., None]
    M = (sw[None] * tf[..., None] * dense).reshape(dense.shape[0], -1).T
    y = (sw * data.S).reshape(-1)
    return M, y


def test_per_angle_gram_equals_dense(rng):
    data, view, dense = _setup(rng)
    H, r, yy, num, den = K.per_angle_gram(data, view)
    M, y = _dense_m2(data, dense)
    np.testing.assert_allclose(H, M.conj().T @ M, rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(r, M.conj().T @ y, rtol=1e-10)
    assert yy == pytest.approx(np.vdot(y, y).real)
    w = rng.uniform(size=H.shape[0])
    assert K.objective_from_gram(H, r, yy, w) == pytest.approx(np.linalg.norm(M @ w - y) ** 2, rel=1e-9)


def test_per_row_gram_equals_dense(rng):
    data, view, dense = _setup(rng)
    Q, n, yy = K.per_row_gram(data, view)
    c, f = 1, 3
    B = (np.sqrt(data.omega[:, c, f])[:, None, None] * np.moveaxis(dense[:, :, c, f], 0, -1)).reshape(
        -1, dense.shape[0]
    )
    np.testing.assert_allclose(Q[c, f], B.conj().T @ B, rtol=1e-10, atol=1e-10)
    ref_n = np.einsum(
        "ja,a->j", np.sum(np.conj(dense[:, :, c, f]) * data.S[None, :, c, f], axis=-1), data.omega[:, c, f]
    )
    np.testing.assert_allclose(n[:, c, f], ref_n, rtol=1e-10)


@pytest.mark.parametrize("domain", ["complex", "real"])
def test_tsvd_nnls_full_rank_is_exact_nnls(rng, domain):
    data, view, dense = _setup(rng)
    H, r, yy, *_ = K.per_angle_gram(data, view)
    M, y = _dense_m2(data, dense)
    w, sv, s = K.tsvd_nnls(H, r, None, svd_domain=domain)
    assert s == M.shape[1]
    ref, _ = scipy.optimize.nnls(np.vstack([M.real, M.imag]), np.concatenate([y.real, y.imag]))
    np.testing.assert_allclose(w, ref, atol=1e-7)
    if domain == "complex":
        np.testing.assert_allclose(sv, np.linalg.svd(M, compute_uv=False), rtol=1e-8)
    else:
        np.testing.assert_allclose(sv, np.linalg.svd(np.vstack([M.real, M.imag]), compute_uv=False), rtol=1e-8)


def test_tsvd_nnls_truncated_matches_dense_svd(rng):
    data, view, dense = _setup(rng, n_d=3, n_k=4)
    H, r, *_ = K.per_angle_gram(data, view)
    M, y = _dense_m2(data, dense)
    s = 3
    U, sig, Vh = np.linalg.svd(M, full_matrices=False)
    A_red = U[:, :s].conj().T @ M
    b_red = U[:, :s].conj().T @ y
    ref, ref_norm = scipy.optimize.nnls(np.vstack([A_red.real, A_red.imag]), np.concatenate([b_red.real, b_red.imag]))
    w, sv, kept = K.tsvd_nnls(H, r, s)
    assert kept == s
    # the projected objective is unique even where w is not
    got = np.linalg.norm(A_red @ w - b_red)
    assert got == pytest.approx(ref_norm, rel=1e-7, abs=1e-9)
    assert np.all(w >= 0)
