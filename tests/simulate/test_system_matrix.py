"""simulate.system_functions / system_matrix against independent computations."""

import math

import h5py
import numpy as np
import pytest

from mdf_neel.sequence import paper_2d_sequence
from mdf_neel.simulate import (
    OffsetGrid,
    easy_axis,
    preset,
    regrid,
    simulation_snr,
    system_functions,
    system_matrix,
)
from tests.simulate._reference import MU0, NA, langevin_phi

PAPER_AMPLITUDES = (12.59e-3, 13.55e-3)
PAPER_DIVIDERS = (102, 96)
ROWS = np.array([2, 15, 16, 17, 33, 50, 51, 67, 101, 150, 297])


def _asymmetric_grid():
    """3 x 2 grid, off-centre, so that position order and sign both matter."""
    xs = np.array([-9e-3, -2e-3, 5e-3])
    ys = np.array([-4e-3, 7e-3])
    off = np.array([[x, y, 0.0] for y in ys for x in xs])  # x fastest
    return xs, ys, OffsetGrid(off, np.array([3, 2, 1]), np.array([21e-3, 22e-3, 0.0]), np.array([-2e-3, 1.5e-3, 0.0]))


def test_easy_axis_convention():
    np.testing.assert_allclose(easy_axis(0), [1, 0, 0], atol=1e-15)
    np.testing.assert_allclose(easy_axis(90), [0, 1, 0], atol=1e-15)
    np.testing.assert_allclose(easy_axis(30), [math.sqrt(3) / 2, 0.5, 0], atol=1e-15)


def test_langevin_phi_matches_independent_chain_rule():
    seq = paper_2d_sequence()
    _, _, grid = _asymmetric_grid()
    phi = system_functions(
        seq, grid.offsets_T, diameter_m=22e-9, model="langevin", frequencies=ROWS, channels=("x", "y")
    )
    ref = langevin_phi(
        grid.offsets_T, 22e-9, PAPER_AMPLITUDES, PAPER_DIVIDERS, 2.5e6, 1632, [(1, 0, 0), (0, 1, 0)], ROWS
    )
    assert phi.shape == (2, ROWS.size, 6)
    scale = np.abs(ref).max()
    np.testing.assert_allclose(phi, ref, rtol=0, atol=1e-7 * scale)


def test_langevin_matrix_position_order_offset_sign_and_units():
    seq = paper_2d_sequence()
    xs, ys, grid = _asymmetric_grid()
    sm = system_matrix(seq, grid, angle_deg=45, diameter_m=20e-9, anisotropy_Jm3=500, model="langevin")
    assert sm.data.shape == (2, 817, 6)
    np.testing.assert_array_equal(sm.frequency_indices, np.arange(817))
    m0 = 474e3 * math.pi * (20e-9) ** 3 / 6
    for iy, y in enumerate(ys):
        for ix, x in enumerate(xs):
            ref = langevin_phi(
                np.array([[x, y, 0.0]]),
                20e-9,
                PAPER_AMPLITUDES,
                PAPER_DIVIDERS,
                2.5e6,
                1632,
                [(1, 0, 0), (0, 1, 0)],
                ROWS,
            )[:, :, 0]
            got = sm.data[:, ROWS, ix + 3 * iy]
            np.testing.assert_allclose(got, -MU0 * NA * m0 * ref, rtol=0, atol=1e-7 * np.abs(ref).max() * MU0 * NA * m0)
    assert sm.method == "hybrid" and sm.experiment.is_simulation  # a simulated hybrid calibration
    assert sm.field_of_view_unit == "T" and sm.easy_axis_angle_deg == 45
    np.testing.assert_array_equal(sm.offset_fields_T, grid.offsets_T)


def test_sign_of_offsets_matters():
    """Mirrored offsets give different rows: the test above would catch a flipped sign."""
    seq = paper_2d_sequence()
    off = np.array([[5e-3, 2e-3, 0.0]])
    a = system_functions(seq, off, diameter_m=22e-9, model="langevin", frequencies=ROWS)
    b = system_functions(seq, -off, diameter_m=22e-9, model="langevin", frequencies=ROWS)
    assert np.abs(a - b).max() > 0.1 * np.abs(a).max()


def test_unit_one_over_s_and_transfer_function_stored():
    seq, grid = preset("paper-2d", grid=(3, 3))
    tf = np.exp(1j * np.linspace(0, 1, 817))[None, :] * np.array([[1.0], [2.0]])
    sm = system_matrix(seq, grid, angle_deg=0, diameter_m=22e-9, model="langevin", unit="1/s", transfer_function=tf)
    phi = system_functions(seq, grid.offsets_T, diameter_m=22e-9, model="langevin")
    np.testing.assert_allclose(sm.data, phi * tf[:, :, None])
    np.testing.assert_allclose(sm.receiver.transfer_function, tf)
    assert not sm.is_transfer_function_corrected
    with pytest.raises(ValueError, match="transfer_function"):
        system_matrix(seq, grid, angle_deg=0, diameter_m=22e-9, model="langevin", transfer_function=np.ones(5))


def test_snr_rule_keeps_signal_rows_and_zeros_dc_and_drive():
    seq, grid = preset("paper-2d", grid=(5, 5))
    sm = system_matrix(seq, grid, angle_deg=0, diameter_m=22e-9, model="langevin")
    snr = sm.snr
    assert np.all(np.isfinite(snr)) and np.all(snr >= 0)
    assert np.all(snr[:, [0, 16, 17]] == 0)
    peak = np.abs(sm.data).max(axis=-1)
    strong = peak > 1e-2 * peak.max()
    strong[:, [0, 16, 17]] = False
    assert np.all(snr[strong] > 5)  # thresholds 1.25–5 keep rows carrying signal
    # rows far below the floor (numerically empty, e.g. a pure-sine drive's even orders) are dropped
    tiny = peak < 1e-6 * peak.max()
    assert np.all(snr[tiny] < 1.25)


def test_simulation_snr_of_zero_data():
    snr = simulation_snr(np.zeros((2, 4, 3), complex), np.arange(4))
    assert snr.shape == (2, 4) and np.all(snr == 0)


def test_regrid_keeps_extent():
    seq, g11 = preset("paper-2d")
    g41 = regrid(g11, (41, 41))
    assert g41.offsets_T.shape == (41 * 41, 3)
    np.testing.assert_allclose(g41.offsets_T.min(axis=0)[:2], [-14.35e-3, -14.71e-3])
    np.testing.assert_allclose(g41.offsets_T.max(axis=0)[:2], [14.35e-3, 14.71e-3])
    _, p41 = preset("paper-2d", grid=(41, 41))
    np.testing.assert_allclose(g41.offsets_T, p41.offsets_T, atol=1e-15)


def test_bad_inputs_are_named():
    seq = paper_2d_sequence()
    with pytest.raises(ValueError, match="offsets_T"):
        system_functions(seq, np.zeros((4, 2)), diameter_m=2e-8, model="langevin")
    with pytest.raises(ValueError, match="channel"):
        system_functions(seq, np.zeros((1, 3)), diameter_m=2e-8, model="langevin", channels=("q",))
    with pytest.raises(ValueError, match="frequencies"):
        system_functions(seq, np.zeros((1, 3)), diameter_m=2e-8, model="langevin", frequencies=[900])
    bad = seq.with_(receiver=type(seq.receiver)(bandwidth_Hz=1.25e6, num_sampling_points=1600, num_channels=2))
    with pytest.raises(ValueError, match="V = 2·bandwidth·cycle"):
        system_functions(bad, np.zeros((1, 3)), diameter_m=2e-8, model="langevin")


def _kaczmarz(A, b, iterations, lam):
    """Regularised Kaczmarz as in the MDF example client (kaczmarzReg), real and non-negative."""
    M, N = A.shape
    x = np.zeros(N, dtype=complex)
    residual = np.zeros(M, dtype=complex)
    energy = np.linalg.norm(A, axis=1)
    for _ in range(iterations):
        for k in range(M):
            if energy[k] > 0:
                beta = (b[k] - A[k] @ x - np.sqrt(lam) * residual[k]) / (energy[k] ** 2 + lam)
                x += beta * A[k].conj()
                residual[k] += np.sqrt(lam) * beta
        x.imag = 0
        x = x * (x.real > 0)
    return x.real


def test_written_matrix_reconstructs_a_phantom_like_the_mdf_example_client(tmp_path):
    from mdf_neel.mdf.writer import write_system_matrix

    seq, grid = preset("paper-2d", grid=(9, 9))
    sm = system_matrix(seq, grid, angle_deg=0, diameter_m=22e-9, model="langevin")
    path = write_system_matrix(tmp_path / "sm.mdf", sm)

    # read the file the way MDF/python/reco.py does
    with h5py.File(path, "r") as f:
        S = f["/measurement/data"][:, :, :, :].squeeze()
        is_bg = f["/measurement/isBackgroundFrame"][:].view(bool)
        S = S[:, :, ~is_bg]
        V = int(f["/acquisition/receiver/numSamplingPoints"][()])
        bandwidth = float(f["/acquisition/receiver/bandwidth"][()])
        snr = f["/calibration/snr"][0]
        N = f["/calibration/size"][:]
        offsets = f["/calibration/offsetFields"][:]
    freq = np.fft.rfftfreq(V, 1 / (2 * bandwidth))
    # phantom: two dots of different concentration at asymmetric positions (x fastest)
    phantom = np.zeros((N[1], N[0]))
    phantom[2, 6] = 1.0
    phantom[6, 3] = 0.6
    c = phantom.ravel()
    # measurement from the independent Langevin reference, in the documented unit V/mol
    rows = np.arange(V // 2 + 1)
    m0 = 474e3 * math.pi * (22e-9) ** 3 / 6
    cols = langevin_phi(offsets[c > 0], 22e-9, PAPER_AMPLITUDES, PAPER_DIVIDERS, 2.5e6, V, [(1, 0, 0), (0, 1, 0)], rows)
    u = -MU0 * NA * m0 * np.einsum("cko,o->ck", cols, c[c > 0])

    keep = (freq > 80e3)[None, :] & (snr >= 2.0)
    A = S[0:2][keep]
    b = u[0:2][keep]
    lam = 1e-4 * np.linalg.norm(A) ** 2 / A.shape[1]
    x = _kaczmarz(A, b, iterations=3, lam=lam)
    img = x.reshape(N[1], N[0])
    assert np.unravel_index(np.argmax(img), img.shape) == (2, 6)
    assert np.corrcoef(img.ravel(), c)[0, 1] > 0.95
    np.testing.assert_allclose(img[6, 3] / img[2, 6], 0.6, atol=0.1)


def test_neel_resolution_is_the_physics_rule_for_the_largest_field():
    from mdf_neel.physics import ParticleParameters, choose_resolution
    from mdf_neel.simulate._system_functions import neel_resolution

    seq, grid = preset("paper-2d", grid=(3, 3))
    p = ParticleParameters(diameter_m=22e-9, anisotropy_Jm3=1100)
    bmax = np.hypot(12.59e-3 + 14.35e-3, 13.55e-3 + 14.71e-3)  # a corner offset adds to the drive peak
    want = choose_resolution(p.xi_per_tesla * bmax, p.sigma, 1e-4)
    got = neel_resolution(seq, grid.offsets_T, diameter_m=22e-9, anisotropy_Jm3=1100)
    assert got == want
    centre_only = neel_resolution(seq, np.zeros((1, 3)), diameter_m=22e-9, anisotropy_Jm3=1100)
    assert centre_only <= got


@pytest.mark.slow
def test_neel_batches_agree_bitwise_and_small_particles_approach_langevin():
    from mdf_neel.simulate.accuracy import contract_row_errors, contract_summary
    from tests.simulate._tiny import tiny_offsets, tiny_sequence

    seq, off, rows = tiny_sequence(), tiny_offsets()[[0, 4]], np.arange(1, 30)
    common = dict(diameter_m=14e-9, angle_deg=30, model="neel", frequencies=rows)
    # fixed numerical settings: every member is integrated alone, whatever the batch
    fixed = dict(common, resolution=7, step_tolerance=2.5e-6)
    np.testing.assert_array_equal(
        system_functions(seq, off, **fixed), system_functions(seq, off, batch_size=1, **fixed)
    )
    # under the row contract the settings follow each batch's own check (a lone member's rows
    # are normalised by its own, weaker row peaks), so the layouts agree within the contract
    # of each: twice its bounds
    a = system_functions(seq, off, **common)
    b = system_functions(seq, off, batch_size=1, **common)
    diff = contract_summary(contract_row_errors(b, a))
    assert diff["rms"] <= 2e-3 and diff["max"] <= 2e-2, diff
    lang = system_functions(seq, off, diameter_m=14e-9, model="langevin", frequencies=rows)
    assert np.linalg.norm(a - lang) < 0.1 * np.linalg.norm(lang)
