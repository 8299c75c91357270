"""Files of fitted M0/M1/M2 models: save and load them, and write their predictions as MDF.

:func:`save_model` / :func:`load_model` store a model as ``model.json`` (parameters,
results) + ``model.h5`` (arrays); :func:`predict_mdf` writes one MDF v2.1 file per
predicted angle. The estimators themselves write no files.

Layout of a saved model directory
---------------------------------
``model.h5``
    One dataset per learned array (``weights_``, ``transfer_function_``, ``error_map_``,
    ``row_errors_``, ``singular_values_``, ...), the atoms' system functions at the
    fitted angles (``_atom_phi``) and, for models fitted to system matrices, the
    sequence and offset grid under ``/template`` so that :meth:`predict` works after
    loading.
``model.json``
    Estimator class, constructor parameters (without the dictionary), scalar results,
    the names of the arrays and the SHA-256 of ``model.h5``. Written last: a directory
    without a consistent ``model.json`` is not a saved model.

Both files are written atomically (temporary file + rename). Pickling an estimator
works as well; this format is for reading from other tools (h5py, JSON).
"""

from __future__ import annotations

import hashlib
import json
import os

import h5py
import numpy as np

from .._atomic import atomic_path
from ..errors import MDFError
from ..sequence import DriveField, Receiver
from ..systemmatrix import SystemMatrix

__all__ = ["save_model", "load_model", "predict_mdf", "FORMAT"]

FORMAT = "mdf_neel.fitting.model/1"
_ARRAYS = (
    "angles_deg_",
    "frequency_indices_",
    "mixing_orders_",
    "diameters_m_",
    "anisotropies_Jm3_",
    "atoms_",
    "atom_weights_",
    "atom_params_",
    "liquid_values_",
    "atom_liquid_values_",
    "transfer_function_",
    "error_map_",
    "row_errors_",
    "weights_",
    "singular_values_",
    "_tf",
    "_atom_phi",
)
_SCALARS = ("training_error_", "rank_", "objective_", "n_iter_", "n_features_in_", "liquid_parameter_")


def _json_value(v):
    if isinstance(v, os.PathLike):  # e.g. cache=pathlib.Path(...)
        return os.fspath(v)
    if isinstance(v, np.ndarray):
        return v.tolist()
    if isinstance(v, (np.integer,)):
        return int(v)
    if isinstance(v, (np.floating,)):
        return float(v)
    if isinstance(v, tuple):
        return [_json_value(x) for x in v]
    if isinstance(v, list):
        return [_json_value(x) for x in v]
    if isinstance(v, dict):
        return {str(k): _json_value(x) for k, x in v.items()}
    return v


def _sha256(path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_model(estimator, directory) -> str:
    """Save a fitted estimator of :mod:`mdf_neel.fitting` into ``directory``.

    Parameters
    ----------
    estimator : EquilibriumModel, NeelModel or DictionaryModel
        Fitted.
    directory : str or os.PathLike
        Created if absent; ``model.json`` and ``model.h5`` inside are replaced.

    Returns
    -------
    str
        The path of ``model.json``.
    """
    from sklearn.utils.validation import check_is_fitted

    check_is_fitted(estimator, "atoms_")
    directory = os.fspath(directory)
    os.makedirs(directory, exist_ok=True)
    h5_path = os.path.join(directory, "model.h5")
    stored = []
    with atomic_path(h5_path) as tmp:
        with h5py.File(tmp, "w") as f:
            for name in _ARRAYS:
                value = getattr(estimator, name, None)
                if value is None:
                    continue
                f.create_dataset(name, data=np.asarray(value))
                stored.append(name)
            templates = getattr(estimator, "_templates", None)
            if templates:
                _write_template(f.create_group("template"), templates)
    params = estimator.get_params(deep=False)
    params.pop("dictionary", None)
    meta = {
        "format": FORMAT,
        "estimator": type(estimator).__name__,
        "params": _json_value(params),
        "best_params": _json_value(getattr(estimator, "best_params_", None)),
        "channels": list(estimator.channels_),
        "output_kind": estimator._output_kind,
        "arrays": stored,
        "model_h5_sha256": _sha256(h5_path),
    }
    for name in _SCALARS:
        if getattr(estimator, name, None) is not None:
            meta[name] = _json_value(getattr(estimator, name))
    from .. import __version__

    meta["software"] = f"mdf_neel {__version__}"
    json_path = os.path.join(directory, "model.json")
    with atomic_path(json_path) as tmp:
        with open(tmp, "w", encoding="utf-8") as fh:
            json.dump(meta, fh, indent=2, sort_keys=True)
    return json_path


def _write_template(g, templates):
    t0 = templates[0]
    df = t0.drive_field
    g.create_dataset("base_frequency_Hz", data=df.base_frequency_Hz)
    g.create_dataset("dividers", data=df.dividers)
    g.create_dataset("strengths_T", data=df.strengths_T)
    g.create_dataset("phases_rad", data=df.phases_rad)
    g.create_dataset("waveforms", data=np.asarray(df.waveforms, dtype=object).astype(str).astype("S"))
    g.create_dataset("cycle_s", data=df.cycle_s)
    rx = t0.receiver
    g.create_dataset("bandwidth_Hz", data=rx.bandwidth_Hz)
    g.create_dataset("num_sampling_points", data=rx.num_sampling_points)
    g.create_dataset("unit", data=rx.unit.encode())
    g.create_dataset("grid_size", data=t0.grid_size)
    g.create_dataset("field_of_view", data=t0.field_of_view)
    g.create_dataset("field_of_view_center", data=t0.field_of_view_center)
    g.create_dataset("field_of_view_unit", data=t0.field_of_view_unit.encode())
    g.create_dataset("offset_fields_T", data=t0.offset_fields_T)
    if all(t.snr is not None for t in templates):
        g.create_dataset("snr", data=np.stack([t.snr for t in templates]))


def _read_template(g, angles, rows, n_channels):
    drive = DriveField(
        float(g["base_frequency_Hz"][()]),
        g["dividers"][()],
        g["strengths_T"][()],
        g["phases_rad"][()],
        np.asarray([[w.decode() for w in row] for row in g["waveforms"][()]], dtype=object),
        cycle_s=float(g["cycle_s"][()]),
    )
    receiver = Receiver(
        float(g["bandwidth_Hz"][()]), int(g["num_sampling_points"][()]), n_channels, unit=g["unit"][()].decode()
    )
    snr = g["snr"][()] if "snr" in g else None
    offsets = g["offset_fields_T"][()]
    out = []
    for i, theta in enumerate(angles):
        out.append(
            SystemMatrix(
                data=np.zeros((n_channels, len(rows), offsets.shape[0]), dtype=np.complex64),
                frequency_indices=rows,
                drive_field=drive,
                receiver=receiver,
                grid_size=g["grid_size"][()],
                field_of_view=g["field_of_view"][()],
                field_of_view_center=g["field_of_view_center"][()],
                field_of_view_unit=g["field_of_view_unit"][()].decode(),
                offset_fields_T=offsets,
                snr=None if snr is None else snr[i],
                method="hybrid",
                easy_axis_angle_deg=float(theta),
            )
        )
    return out


def load_model(directory):
    """Load a model saved by :func:`save_model`; it predicts like the original.

    Parameters
    ----------
    directory : str or os.PathLike

    Returns
    -------
    EquilibriumModel, NeelModel or DictionaryModel
        Fitted, with ``dictionary=None`` (new angles are simulated on demand).

    Raises
    ------
    MDFError
        Missing or inconsistent files (naming the file).

    Examples
    --------
    >>> import numpy as np
    >>> from mdf_neel.fitting import EquilibriumModel
    >>> from mdf_neel.simulate import preset, system_matrix
    >>> seq, grid = preset("paper-2d", grid=(3, 3))
    >>> X = np.array([[0.0], [90.0]])  # easy-axis angles in degrees, shape (n_samples, 1)
    >>> sms = [system_matrix(seq, grid, angle_deg=a, diameter_m=20e-9, model="langevin", frequencies=[16, 17, 33])
    ...        for a in X[:, 0]]
    >>> model = EquilibriumModel(diameters_m=(18e-9, 20e-9), frequencies=[16, 17, 33], cache=False).fit(X, sms)

    >>> import os, tempfile
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     json_path = save_model(model, os.path.join(tmp, "m0"))
    ...     back = load_model(os.path.join(tmp, "m0"))
    >>> os.path.basename(json_path), back.best_params_ == model.best_params_
    ('model.json', True)
    >>> np.allclose(back.predict(X)[0].data, model.predict(X)[0].data)
    True
    """
    from .dictionary_model import DictionaryModel
    from .equilibrium import EquilibriumModel
    from .neel import NeelModel

    directory = os.fspath(directory)
    json_path = os.path.join(directory, "model.json")
    h5_path = os.path.join(directory, "model.h5")
    try:
        with open(json_path, encoding="utf-8") as fh:
            meta = json.load(fh)
    except (OSError, ValueError) as exc:
        raise MDFError(f"cannot read the model description: {exc}", path=json_path) from None
    if meta.get("format") != FORMAT:
        raise MDFError(f"unknown model format {meta.get('format')!r}, expected {FORMAT!r}", path=json_path)
    if not os.path.exists(h5_path) or _sha256(h5_path) != meta.get("model_h5_sha256"):
        raise MDFError("model.h5 is missing or does not belong to model.json (checksum mismatch)", path=h5_path)
    classes = {c.__name__: c for c in (EquilibriumModel, NeelModel, DictionaryModel)}
    cls = classes.get(meta.get("estimator"))
    if cls is None:
        raise MDFError(f"unknown estimator {meta.get('estimator')!r}", path=json_path)
    params = {k: (tuple(v) if isinstance(v, list) else v) for k, v in meta["params"].items()}
    est = cls(**params)
    with h5py.File(h5_path, "r") as f:
        for name in meta["arrays"]:
            setattr(est, name, f[name][()])
        est.channels_ = tuple(meta["channels"])
        est._output_kind = meta["output_kind"]
        if "template" in f:
            est._templates = _read_template(f["template"], est.angles_deg_, est.frequency_indices_, len(est.channels_))
            est._sequence = est._templates[0].sequence
        else:
            est._templates = None
            est._sequence = None
    for name in _SCALARS:
        if name in meta:
            setattr(est, name, meta[name])
    if meta.get("best_params") is not None:
        est.best_params_ = meta["best_params"]
    for name in ("mixing_orders_", "liquid_parameter_", "liquid_values_", "atom_liquid_values_"):
        if not hasattr(est, name):  # stored only when not None
            setattr(est, name, None)
    return est


def predict_mdf(model, X, out_dir, *, grid=None, prefix="predicted", overwrite=True):
    """Predict system matrices with a fitted model and write one MDF v2.1 file per angle.

    Parameters
    ----------
    model : EquilibriumModel, NeelModel or DictionaryModel
        Fitted to :class:`~mdf_neel.systemmatrix.SystemMatrix` inputs (they carry the
        sequence and offset grid a file needs).
    X : array_like of shape (n_samples, 1)
        Easy-axis angles in degrees.
    out_dir : str or os.PathLike
        Created if absent.
    grid : OffsetGrid or tuple, optional
        Predict on another offset grid; see the estimators' ``predict``.
    prefix : str
        File names are ``{prefix}_{angle:06.2f}deg.mdf`` (angle modulo 180°).
    overwrite : bool
        Replace existing files.

    Returns
    -------
    list of str
        The written paths, one per row of ``X``.

    Raises
    ------
    ValueError
        The model was fitted to arrays, not to system matrices.

    Examples
    --------
    >>> import numpy as np
    >>> from mdf_neel.simulate import preset, system_matrix
    >>> seq, grid = preset("paper-2d", grid=(3, 3))
    >>> rows = [16, 17, 33]
    >>> X = np.array([[0.0], [45.0], [90.0]])  # easy-axis angles in degrees, shape (n_samples, 1)
    >>> sms = [system_matrix(seq, grid, angle_deg=a, diameter_m=20e-9, anisotropy_Jm3=1000.0,
    ...                      model="anisotropic-equilibrium", frequencies=rows) for a in X[:, 0]]
    >>> import os, tempfile
    >>> from mdf_neel.fitting import EquilibriumModel
    >>> model = EquilibriumModel(diameters_m=(18e-9, 20e-9), frequencies=rows, cache=False).fit(X, sms)
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     paths = predict_mdf(model, X, tmp)
    ...     names = sorted(os.listdir(tmp))
    >>> names
    ['predicted_000.00deg.mdf', 'predicted_045.00deg.mdf', 'predicted_090.00deg.mdf']
    """
    from ..mdf.writer import write_system_matrix

    if getattr(model, "_output_kind", None) != "system_matrix":
        raise ValueError("predict_mdf needs a model fitted to SystemMatrix inputs (they carry the sequence)")
    sms = model.predict(X, grid=grid)
    os.makedirs(out_dir, exist_ok=True)
    paths = []
    for sm in sms:
        path = os.path.join(os.fspath(out_dir), f"{prefix}_{sm.easy_axis_angle_deg % 180.0:06.2f}deg.mdf")
        paths.append(write_system_matrix(path, sm, overwrite=overwrite))
    return paths
