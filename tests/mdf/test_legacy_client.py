"""A client written like the MDF project's example reconstruction (``python/reco.py`` of
github.com/MagneticParticleImaging/MDF) reads our files: plain h5py, ``/measurement/data``,
background frames dropped with ``isBackgroundFrame``, bins above 80 kHz chosen by
computing each bin's frequency from its index, a few regularised Kaczmarz sweeps.

Such a client ignores ``/measurement/frequencySelection``. On the bundled sample (bins
0…320 of 817 stored) it pairs matrix rows with measurement entries of other channels and
bins; on the file written by ``mdf-neel convert --expand-frequencies`` it pairs every row
correctly and recovers a two-point phantom.
"""

from __future__ import annotations

from pathlib import Path

import h5py
import numpy as np
import pytest

from mdf_neel.cli import main
from mdf_neel.mdf.conversion import convert
from mdf_neel.mdf.reader import read_system_matrix

SAMPLE = Path(__file__).resolve().parents[2] / "sample_mdf" / "synthetic_measured" / "theta_000.mdf"
#: Phantom: two unit points at (ix, iy) = (3, 3) and (7, 6) of the 11 × 11 grid (x fastest).
PHANTOM = (3 + 11 * 3, 7 + 11 * 6)
#: Complex noise per bin and frame, relative to the RMS of the phantom's signal over the used rows.
NOISE = 0.03
FRAMES = 2
#: The example's band: bins whose index-computed frequency exceeds 80 kHz.
MIN_FREQ_HZ = 80e3


# --------------------------------------------------------------------------------------
# the client, written like python/reco.py and python/kaczmarzReg.py
# --------------------------------------------------------------------------------------
def _kaczmarz_reg(A, b, iterations, lambd, enforce_real, enforce_positive, order):
    """The example's regularised Kaczmarz (rows with zero energy are skipped)."""
    M, N = A.shape
    x = np.zeros(N, dtype=b.dtype)
    residual = np.zeros(M, dtype=x.dtype)
    energy = np.linalg.norm(A, axis=1)
    for _ in range(iterations):
        for k in order:
            if energy[k] > 0:
                beta = (b[k] - A[k].dot(x) - np.sqrt(lambd) * residual[k]) / (energy[k] ** 2 + lambd)
                x += beta * A[k].conjugate()
                residual[k] += np.sqrt(lambd) * beta
        if enforce_real and np.iscomplexobj(x):
            x.imag = 0
        if enforce_positive:
            x = x * (x.real > 0)
    return x


def _client_load(sm_path, meas_path):
    """The example's reading: returns S (rows, positions), u (entries,) and its bookkeeping."""
    with h5py.File(sm_path, "r") as fSM, h5py.File(meas_path, "r") as fMeas:
        S = fSM["/measurement/data"][:, :, :, :].squeeze()
        isBG = fSM["/measurement/isBackgroundFrame"][:].view(bool)
        S = S[:, :, ~isBG]
        u = np.fft.rfft(fMeas["/measurement/data"][:, :, :, :].squeeze())
        numFreq = round(fMeas["/acquisition/receiver/numSamplingPoints"][()] / 2) + 1
        bandwidth = fMeas["/acquisition/receiver/bandwidth"][()]
    freq = np.arange(0, numFreq) / (numFreq - 1) * bandwidth
    idxMin = np.flatnonzero(freq > MIN_FREQ_HZ)[0]
    S = S[0:2, idxMin:-1, :]
    u = u[:, 0:2, idxMin:-1]
    book = dict(idx_min=int(idxMin), rows_per_channel=S.shape[1], entries_per_channel=u.shape[2])
    S = S.reshape(S.shape[0] * S.shape[1], S.shape[2])
    u = u.reshape(u.shape[0], u.shape[1] * u.shape[2]).mean(axis=0)
    return S, u, book


def _client_reconstruct(S, u, seed=0):
    """``kaczmarzReg(S, u, 3, norm(S, 'fro')·1e-3, False, True, True)``, shuffled with a seed."""
    order = np.random.default_rng(seed).permutation(S.shape[0])
    return _kaczmarz_reg(S, u, 3, np.linalg.norm(S, "fro") * 1e-3, False, True, order)


# --------------------------------------------------------------------------------------
# the simulated measurement and the threshold
# --------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def setup(tmp_path_factory):
    """u = S·c from the sample's own rows plus noise, stored as the example's measurement
    file stores it: time samples (frames, periods, channels, V)."""
    tmp = tmp_path_factory.mktemp("legacy")
    sm = read_system_matrix(SAMPLE)
    V, K_full, O = sm.receiver.num_sampling_points, sm.receiver.num_frequencies, sm.num_positions
    c = np.zeros(O)
    c[list(PHANTOM)] = 1.0
    clean = np.zeros((2, K_full), complex)
    clean[:, sm.frequency_indices] = sm.data.astype(np.complex128) @ c
    # the rows a correctly pairing client uses: index-computed f > 80 kHz, without the last bin
    f_client = np.arange(K_full) / (K_full - 1) * sm.receiver.bandwidth_Hz
    used = (f_client[sm.frequency_indices] > MIN_FREQ_HZ) & (sm.frequency_indices < K_full - 1)
    S_true = sm.data[:2, used].astype(np.complex128).reshape(-1, O)
    sigma = NOISE * np.sqrt(np.mean(np.abs(S_true @ c) ** 2))
    rng = np.random.default_rng(2024)
    noise = sigma * (rng.normal(size=(FRAMES, 2, K_full)) + 1j * rng.normal(size=(FRAMES, 2, K_full))) / np.sqrt(2)
    meas = tmp / "measurement.h5"
    with h5py.File(meas, "w") as f:
        f["/measurement/data"] = np.fft.irfft(clean + noise, n=V)[:, np.newaxis]
        f["/acquisition/receiver/numSamplingPoints"] = np.int64(V)
        f["/acquisition/receiver/bandwidth"] = sm.receiver.bandwidth_Hz
    # Threshold: unregularised least squares on the correctly paired rows has the image error
    # E|dx|^2 = s^2 · sum 1/s_i^2 (s: noise per real component after averaging, s_i: singular
    # values of [Re S; Im S]); allowing twice that error amplitude, a lower correlation is not
    # explained by the measurement noise.
    s_real = sigma / np.sqrt(2 * FRAMES)
    singular = np.linalg.svd(np.vstack([S_true.real, S_true.imag]), compute_uv=False)
    err2 = s_real**2 * np.sum(singular**-2.0)
    threshold = 1.0 / np.sqrt(1.0 + 4.0 * err2 / np.sum((c - c.mean()) ** 2))
    return dict(tmp=tmp, meas=meas, truth=c, threshold=threshold, K_full=K_full)


def _mispaired(path, book):
    """How many of the client's (row, entry) pairs join different (channel, bin)s."""
    bins = read_system_matrix(path).frequency_indices  # what the stored rows really are
    i0, nS, nU = book["idx_min"], book["rows_per_channel"], book["entries_per_channel"]
    m = np.arange(min(2 * nS, 2 * nU))
    row = np.stack([m // nS, bins[i0 + m % nS]])
    entry = np.stack([m // nU, i0 + m % nU])
    return int(np.sum(np.any(row != entry, axis=0)))


def _correlation(x, truth):
    return float(np.corrcoef(np.real(x), truth)[0, 1])


# --------------------------------------------------------------------------------------
# tests
# --------------------------------------------------------------------------------------
def test_threshold_is_meaningful(setup):
    # above what an image finding only one of the two points reaches, below a perfect image
    one = np.zeros_like(setup["truth"])
    one[PHANTOM[0]] = 1.0
    assert _correlation(one, setup["truth"]) < setup["threshold"] < 1.0


def test_example_client_recovers_the_phantom_from_the_expanded_file(setup):
    out = setup["tmp"] / "expanded.mdf"
    assert main(["convert", str(SAMPLE), str(out), "--expand-frequencies"]) == 0
    S, u, book = _client_load(out, setup["meas"])
    assert S.shape[0] == u.size and _mispaired(out, book) == 0
    x = _client_reconstruct(S, u)
    assert _correlation(x, setup["truth"]) > setup["threshold"]
    assert sorted(np.argsort(np.real(x))[-2:].tolist()) == sorted(PHANTOM)


def test_example_client_mispairs_rows_of_the_selected_file(setup):
    S, u, book = _client_load(SAMPLE, setup["meas"])
    # 267 rows per channel against 763 entries per channel: every row of channel 2 meets
    # a channel-1 entry of another bin, silently (no shape error: Kaczmarz reads b[k], k < rows)
    assert S.shape[0] < u.size
    assert _mispaired(SAMPLE, book) == book["rows_per_channel"]
    assert _correlation(_client_reconstruct(S, u), setup["truth"]) < setup["threshold"]


def test_example_client_on_a_band_selected_file_needs_the_expansion(setup):
    # a file already cut to f >= 80 kHz (as MPIFiles users often store them): every row is mispaired
    cut = convert(SAMPLE, setup["tmp"] / "cut.mdf", min_frequency_Hz=MIN_FREQ_HZ)
    S, u, book = _client_load(cut, setup["meas"])
    assert _mispaired(cut, book) == 2 * book["rows_per_channel"]
    assert _correlation(_client_reconstruct(S, u), setup["truth"]) < setup["threshold"]
    full = convert(cut, setup["tmp"] / "cut_full.mdf", expand_frequencies=True)
    S, u, book = _client_load(full, setup["meas"])
    assert _mispaired(full, book) == 0
    assert _correlation(_client_reconstruct(S, u), setup["truth"]) > setup["threshold"]
