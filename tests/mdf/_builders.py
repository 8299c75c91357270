"""Reference MDF files built with raw h5py (never with mdf_neel's writer).

``make_truth`` draws a known system matrix / measurement; ``write_v2`` stores it in
any layout the MDF spec allows (fast frame axis or not, time or Fourier domain,
frequency selection, frame permutation, interleaved background, sparsity transform,
transfer function, old flag names); ``write_v1`` stores it as MDF v1. The reader
must return the truth.

Conventions of the truth dict (all numpy, 0-based):
``V, bandwidth, C, J, grid (Nx, Ny, Nz), O, E``;
``fg`` complex (J, C, K_full, O): foreground spectra in grid order (x fastest);
``bg`` complex (J, C, K_full, E); ``time`` real (J, C, V, O + E) when the truth was
drawn in the time domain (then ``fg``/``bg`` are its rfft);
``snr`` (J, C, K_full); ``tf`` complex (C, K_full).
"""

from __future__ import annotations

import h5py
import numpy as np
import scipy.fft

BASE_HZ = 2.5e6


def make_truth(rng, *, C=2, V=34, J=1, grid=(4, 3, 1), E=0, sparse=None):
    """A random truth. ``sparse=(name, B)``: the foreground rows are exactly B-sparse
    in the orthonormal DCT ``name`` over the grid (so a B-coefficient file is exact)."""
    O = int(np.prod(grid))
    K = V // 2 + 1
    t = dict(V=V, bandwidth=BASE_HZ / 2, C=C, J=J, grid=tuple(grid), O=O, E=E, K_full=K)
    time = rng.normal(size=(J, C, V, O + E))
    spec = np.fft.rfft(time, axis=2)
    t["time"] = time
    t["fg"], t["bg"] = spec[..., :O], spec[..., O:]
    if sparse is not None:
        name, B = sparse
        typ = {"DCT-II": 2, "DCT-IV": 4}[name]
        shape = (J, C, K) + tuple(grid[::-1])
        coeff = np.zeros((J, C, K, O), complex)
        idx = np.stack([rng.permutation(O)[:B] for _ in range(J * C * K)]).reshape(J, C, K, B)
        vals = rng.normal(size=(J, C, K, B)) + 1j * rng.normal(size=(J, C, K, B))
        np.put_along_axis(coeff, idx, vals, axis=-1)
        axes = tuple(3 + i for i, s in enumerate(grid[::-1]) if s > 1)
        t["fg"] = scipy.fft.idctn(coeff.reshape(shape), type=typ, norm="ortho", axes=axes).reshape(J, C, K, O)
        t["coeff_idx"], t["coeff_vals"], t["sparse"] = idx, vals, name
        t.pop("time")
    t["snr"] = rng.uniform(0, 10, size=(J, C, K))
    t["tf"] = (1 + 0.2 * rng.normal(size=(C, K))) * np.exp(1j * rng.uniform(-3, 3, size=(C, K)))
    return t


def _metadata(f, t, *, num_frames, version="2.1.0"):
    f["version"] = version
    f["uuid"] = "0b3a1c1e-7a1f-4b5c-9d2e-3f4a5b6c7d8e"
    f["time"] = "2024-01-02T03:04:05.678"
    for g, vals in {
        "study": dict(description="d", name="study", number=np.int64(3), uuid="1b3a1c1e-7a1f-4b5c-9d2e-3f4a5b6c7d8e"),
        "experiment": dict(
            description="e",
            isSimulation=np.int8(1),
            name="exp",
            number=np.int64(4),
            subject="phantom",
            uuid="2b3a1c1e-7a1f-4b5c-9d2e-3f4a5b6c7d8e",
        ),
        "scanner": dict(facility="UKE", manufacturer="Bruker", name="MPI", operator="op", topology="FFP"),
    }.items():
        for k, v in vals.items():
            f[f"{g}/{k}"] = v
    sd = h5py.string_dtype()
    for k in ("batch", "name", "solute", "vendor"):
        f.create_dataset(f"tracer/{k}", data=np.array(["Fe" if k == "solute" else f"t-{k}"], dtype=object), dtype=sd)
    f["tracer/concentration"] = np.array([0.5])
    f["tracer/volume"] = np.array([1e-6])
    C, V, J = t["C"], t["V"], t["J"]
    A = "acquisition/"
    f[A + "numAverages"] = np.int64(1)
    f[A + "numFrames"] = np.int64(num_frames)
    f[A + "numPeriodsPerFrame"] = np.int64(J)
    f[A + "startTime"] = "2024-01-02T03:04:05.000"
    f[A + "gradient"] = np.tile(np.diag([-1.0, -1.0, 2.0]), (J, 1, 1, 1))
    f[A + "drivefield/baseFrequency"] = BASE_HZ
    f[A + "drivefield/cycle"] = V / (2 * t["bandwidth"])
    f[A + "drivefield/divider"] = np.array([[V], [V]], dtype=np.int64)
    f[A + "drivefield/numChannels"] = np.int64(2)
    f[A + "drivefield/phase"] = np.full((J, 2, 1), np.pi / 2)
    f[A + "drivefield/strength"] = np.full((J, 2, 1), 0.012)
    f.create_dataset(A + "drivefield/waveform", data=np.array([["sine"], ["sine"]], dtype=object), dtype=sd)
    f[A + "receiver/bandwidth"] = t["bandwidth"]
    f[A + "receiver/numChannels"] = np.int64(C)
    f[A + "receiver/numSamplingPoints"] = np.int64(V)
    f[A + "receiver/unit"] = "V"


def write_v2(
    path,
    t,
    *,
    fast=True,
    fourier=True,
    selection=None,
    permutation=False,
    interleave_bg=False,
    sparse_convention="mpifiles",
    tf=False,
    tf_corrected=False,
    transposed_name=False,
    dtype=np.complex64,
    calibration=True,
    version="2.1.0",
    snr=True,
    unsorted_selection=False,
    bg_acquisition=None,
):
    """Write the truth as an MDF v2 file in the requested layout.

    selection: 0-based bins to store (isFrequencySelection = 1, stored 1-based);
    permutation: store frames as fg (grid order) then bg, with a framePermutation
    mapping to an acquisition order where the E background frames are spread
    evenly (indices round(e·(N-1)/(E-1))) and the foreground fills the rest in order;
    interleave_bg: no permutation, but frames stored in that acquisition order
    (background interleaved; foreground still in grid order);
    bg_acquisition: explicit 0-based acquisition indices of the background frames.
    """
    K_full, O, E = t["K_full"], t["O"], t["E"]
    bins = np.arange(K_full) if selection is None else np.asarray(selection)
    if unsorted_selection:
        bins = bins[::-1].copy()
    N = O + E
    acq_bg = _bg_acq_positions(N, E) if bg_acquisition is None else np.asarray(bg_acquisition)
    stored_is_bg = np.r_[np.zeros(O, bool), np.ones(E, bool)]
    if interleave_bg:
        stored_is_bg = np.zeros(N, bool)
        stored_is_bg[acq_bg] = True
    order = np.empty(N, dtype=np.int64)  # stored frame -> column of [fg | bg]
    order[~stored_is_bg] = np.arange(O)
    order[stored_is_bg] = O + np.arange(E)
    with h5py.File(path, "w") as f:
        sparse = "sparse" in t
        if sparse:
            B = t["coeff_idx"].shape[-1]
            n_frames = B + E if sparse_convention == "mpifiles" else O + E
        else:
            n_frames = N
        _metadata(f, t, num_frames=n_frames, version=version)
        M = "measurement/"
        flags = dict(
            isBackgroundCorrected=0,
            isFastFrameAxis=int(fast),
            isFourierTransformed=int(fourier),
            isFramePermutation=int(permutation),
            isFrequencySelection=int(selection is not None),
            isSparsityTransformed=int(sparse),
            isSpectralLeakageCorrected=0,
            isTransferFunctionCorrected=int(tf_corrected),
        )
        if version.startswith("2.0"):
            flags.pop("isSparsityTransformed")
        if transposed_name:
            flags["isTransposed"] = flags.pop("isFastFrameAxis")
        for k, v in flags.items():
            f[M + k] = np.int8(v)
        if sparse:
            data = np.concatenate([t["coeff_vals"][:, :, bins], t["bg"][:, :, bins]], axis=-1).astype(dtype)
            f[M + "sparsityTransformation"] = t["sparse"]
            f[M + "subsamplingIndices"] = (t["coeff_idx"][:, :, bins] + 1).astype(np.int32)
            isbg = np.r_[np.zeros(B if sparse_convention == "mpifiles" else O, np.int8), np.ones(E, np.int8)]
            f[M + "isBackgroundFrame"] = isbg
        else:
            if fourier:
                allf = np.concatenate([t["fg"], t["bg"]], axis=-1)[:, :, bins][..., order].astype(dtype)
            else:
                allf = t["time"][..., order]
            data = allf if fast else np.ascontiguousarray(np.moveaxis(allf, -1, 0))
            f[M + "isBackgroundFrame"] = stored_is_bg.astype(np.int8)
        f.create_dataset(M + "data", data=data)
        if selection is not None:
            f[M + "frequencySelection"] = (bins + 1).astype(np.int64)
        if permutation:
            acq_of_stored = np.empty(N, dtype=np.int64)
            fg_acq = np.setdiff1d(np.arange(N), acq_bg)
            acq_of_stored[:O] = fg_acq
            acq_of_stored[O:] = acq_bg
            f[M + "framePermutation"] = acq_of_stored + 1
        if tf:
            f.create_dataset("acquisition/receiver/transferFunction", data=t["tf"][:, bins].astype(np.complex128))
        if calibration:
            Cal = "calibration/"
            f[Cal + "method"] = "hybrid"
            f[Cal + "size"] = np.array(t["grid"], dtype=np.int64)
            f[Cal + "fieldOfView"] = np.array([0.03, 0.02, 0.0])
            f[Cal + "fieldOfViewCenter"] = np.zeros(3)
            f[Cal + "order"] = "xyz"
            f[Cal + "offsetFields"] = np.arange(O * 3, dtype=float).reshape(O, 3) * 1e-3
            if snr:
                f[Cal + "snr"] = t["snr"][:, :, bins]
    return path


def _bg_acq_positions(N, E):
    if E == 0:
        return np.zeros(0, dtype=np.int64)
    if E == 1:
        return np.array([0])
    return np.rint(np.arange(E) * (N - 1) / (E - 1)).astype(np.int64)


def write_v1(path, t, *, time_domain=False, measurement=False):
    """Write the truth as MDF v1 (trailing real/imag axis, /calibration/dataFD (C, K, N, 2)),
    or as a v1 measurement (/measurement/dataFD (L, C, K, 2)) with the O frames."""
    C, V, O = t["C"], t["V"], t["O"]
    with h5py.File(path, "w") as f:
        f["version"] = "1.0.0"
        f["uuid"] = "0b3a1c1e-7a1f-4b5c-9d2e-3f4a5b6c7d8e"
        f["date"] = "2016-01-02T03:04:05"
        f["study/name"] = "s"
        f["study/experiment"] = "7"
        f["study/description"] = "d"
        f["study/subject"] = "phantom"
        f["study/reference"] = np.int64(0)
        f["study/simulation"] = np.int64(0)
        for k in ("name", "batch", "vendor"):
            f[f"tracer/{k}"] = "x"
        f["tracer/volume"] = 1e-6
        f["tracer/concentration"] = 0.5
        f["tracer/time"] = "2016-01-02T03:04:05"
        for k in ("facility", "operator", "manufacturer", "model", "topology"):
            f[f"scanner/{k}"] = "FFP" if k == "topology" else "x"
        A = "acquisition/"
        f[A + "numFrames"] = np.int64(O)
        f[A + "framePeriod"] = 0.1
        f[A + "numPatches"] = np.int64(1)
        f[A + "gradient"] = np.array([-1.0, -1.0, 2.0])
        f[A + "time"] = "2016-01-02T03:04:05"
        f[A + "drivefield/numChannels"] = np.int64(2)
        f[A + "drivefield/strength"] = np.array([0.012, 0.012])
        f[A + "drivefield/baseFrequency"] = BASE_HZ
        f[A + "drivefield/divider"] = np.array([V, V], dtype=np.int64)
        f[A + "drivefield/period"] = V / (2 * t["bandwidth"])
        f[A + "drivefield/averages"] = np.int64(1)
        f[A + "receiver/numChannels"] = np.int64(C)
        f[A + "receiver/bandwidth"] = t["bandwidth"]
        f[A + "receiver/numSamplingPoints"] = np.int64(V)
        tf = t["tf"]
        f[A + "receiver/transferFunction"] = np.stack([tf.real, tf.imag], axis=-1)
        fg = t["fg"][0]  # (C, K, O)
        if measurement:
            if time_domain:
                f["measurement/dataTD"] = np.moveaxis(t["time"][0, ..., :O], -1, 0)  # (L, C, V)
            else:
                x = np.moveaxis(fg, -1, 0)  # (L, C, K)
                f["measurement/dataFD"] = np.stack([x.real, x.imag], axis=-1)
        else:
            if time_domain:
                f["calibration/dataTD"] = t["time"][0, ..., :O]  # (C, V, N)
            else:
                f["calibration/dataFD"] = np.stack([fg.real, fg.imag], axis=-1)
            f["calibration/snrFD"] = t["snr"][0]
            f["calibration/size"] = np.array(t["grid"], dtype=np.int64)
            f["calibration/fieldOfView"] = np.array([0.03, 0.02, 0.0])
            f["calibration/fieldOfViewCenter"] = np.zeros(3)
            f["calibration/method"] = "robot"
            f["calibration/order"] = "xyz"
            f["calibration/positions"] = np.arange(O * 3, dtype=float).reshape(O, 3)
    return path
