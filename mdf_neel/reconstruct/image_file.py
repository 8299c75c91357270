"""The reconstruction image file (HDF5, a format of this package; not MDF).

Layout (``format = "mdf_neel orientation image"``, ``format_version = 1``)::

    /concentration            float64 (F, A, Nz, Ny, Nx)   calibration-sample units
    /angles_deg               float64 (A,)                  easy-axis angle per block
    /orientation/total        float64 (F, Nz, Ny, Nx)
    /orientation/angle_deg    float64 (F, Nz, Ny, Nx)       [0, 180), NaN where total = 0
    /orientation/coherence    float64 (F, Nz, Ny, Nx)       [0, 1]
    /grid/size                int64 (3,)                    (Nx, Ny, Nz)
    /grid/field_of_view       float64 (3,)                  attribute unit = "T" or "m"
    /grid/field_of_view_center float64 (3,)
    /grid/offsets_T           float64 (O, 3)                optional
    /rows/frequency_indices   int64 (K,)                    0-based rfft bins
    /rows/mask                int8 (C, K)
    /rows/scale               float64 (C, K)
    /residual                 float64 (F,)
    attributes: lambda_abs, settings (JSON), system_matrix_files (JSON),
                measurement_file, angle_convention, mdf_neel_version, created_utc

The file is written atomically (:func:`mdf_neel._atomic.atomic_path`).
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone

import h5py
import numpy as np

from .._atomic import atomic_path
from ..errors import MDFError
from .imaging import Reconstruction, ReconstructionSettings
from .problem import MeasurementOptions, RowSelection

__all__ = ["write_image", "read_image", "FORMAT", "FORMAT_VERSION"]

FORMAT = "mdf_neel orientation image"
FORMAT_VERSION = 1
_ANGLE_CONVENTION = "n(theta) = (cos theta, sin theta, 0); theta in degrees from the x axis towards y"


def _json_default(value):
    if isinstance(value, (np.generic,)):
        return value.item()
    if isinstance(value, np.ndarray):
        return value.tolist()
    raise TypeError(f"not JSON-serialisable: {type(value).__name__}")


def write_image(path, rec: Reconstruction, *, overwrite: bool = True) -> str:
    """Write a :class:`~mdf_neel.reconstruct.Reconstruction` as an HDF5 image file.

    Parameters
    ----------
    path : str or os.PathLike
        Target file (``.h5`` recommended).
    rec : Reconstruction
    overwrite : bool
        Replace an existing file.

    Returns
    -------
    str
        The path written.

    Examples
    --------
    >>> import os, tempfile
    >>> import numpy as np
    >>> from mdf_neel.reconstruct import Reconstruction, ReconstructionSettings
    >>> rec = Reconstruction(concentration=np.ones((1, 2, 1, 2, 2)), angles_deg=np.array([0.0, 90.0]),
    ...     grid_size=np.array([2, 2, 1]), field_of_view=np.array([0.02, 0.02, 0.0]),
    ...     field_of_view_center=np.zeros(3), field_of_view_unit="T", frequency_indices=np.array([33]),
    ...     row_mask=np.ones((2, 1), bool), row_scale=np.ones((2, 1)), lambda_abs=0.0,
    ...     residual=np.zeros(1), settings=ReconstructionSettings())
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     back = read_image(write_image(os.path.join(tmp, "image.h5"), rec))
    >>> back.concentration.shape, back.angles_deg.tolist()
    ((1, 2, 1, 2, 2), [0.0, 90.0])
    """
    from .. import __version__

    path = os.fspath(path)
    if not overwrite and os.path.exists(path):
        raise FileExistsError(f"{path} exists (overwrite=False)")
    om = rec.orientation()
    settings = json.dumps(rec.settings.as_dict(), default=_json_default)
    with atomic_path(path) as tmp:
        with h5py.File(tmp, "w") as f:
            f.attrs["format"] = FORMAT
            f.attrs["format_version"] = FORMAT_VERSION
            f.attrs["mdf_neel_version"] = __version__
            f.attrs["created_utc"] = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
            f.attrs["angle_convention"] = _ANGLE_CONVENTION
            f.attrs["concentration_unit"] = "calibration-sample concentration (a system-matrix column = 1)"
            f.attrs["lambda_abs"] = float(rec.lambda_abs)
            f.attrs["settings"] = settings
            f.attrs["system_matrix_files"] = json.dumps(list(rec.system_matrix_files))
            f.attrs["measurement_file"] = str(rec.measurement_file)
            f.create_dataset("concentration", data=np.asarray(rec.concentration, dtype=np.float64))
            f.create_dataset("angles_deg", data=np.asarray(rec.angles_deg, dtype=np.float64))
            f.create_dataset("orientation/total", data=om.total)
            f.create_dataset("orientation/angle_deg", data=om.angle_deg)
            f.create_dataset("orientation/coherence", data=om.coherence)
            g = f.create_group("grid")
            g.create_dataset("size", data=np.asarray(rec.grid_size, dtype=np.int64))
            g.create_dataset("field_of_view", data=np.asarray(rec.field_of_view, dtype=np.float64))
            g.create_dataset("field_of_view_center", data=np.asarray(rec.field_of_view_center, dtype=np.float64))
            g.attrs["unit"] = rec.field_of_view_unit
            if rec.offsets_T is not None:
                g.create_dataset("offsets_T", data=np.asarray(rec.offsets_T, dtype=np.float64))
            r = f.create_group("rows")
            r.create_dataset("frequency_indices", data=np.asarray(rec.frequency_indices, dtype=np.int64))
            r.create_dataset("mask", data=np.asarray(rec.row_mask, dtype=np.int8))
            r.create_dataset("scale", data=np.asarray(rec.row_scale, dtype=np.float64))
            f.create_dataset("residual", data=np.asarray(rec.residual, dtype=np.float64))
    return path


def read_image(path) -> Reconstruction:
    """Read an image file written by :func:`write_image`.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    Reconstruction

    Raises
    ------
    MDFError
        Not such a file (the message names it).

    Examples
    --------
    Writing and reading back: see :func:`write_image`. A file that is not an image:

    >>> from mdf_neel.errors import MDFError
    >>> try:
    ...     read_image("no-such-image.h5")
    ... except MDFError as err:
    ...     print(str(err).split(":")[0])
    file 'no-such-image.h5'
    """
    path = os.fspath(path)
    try:
        with h5py.File(path, "r") as f:
            if f.attrs.get("format") != FORMAT:
                raise MDFError(f"not an orientation image file (format attribute {f.attrs.get('format')!r})", path=path)
            settings = json.loads(f.attrs["settings"])
            meas = settings.pop("measurement")
            rows = settings.pop("rows")
            return Reconstruction(
                concentration=f["concentration"][()],
                angles_deg=f["angles_deg"][()],
                grid_size=f["grid/size"][()],
                field_of_view=f["grid/field_of_view"][()],
                field_of_view_center=f["grid/field_of_view_center"][()],
                field_of_view_unit=str(f["grid"].attrs["unit"]),
                frequency_indices=f["rows/frequency_indices"][()],
                row_mask=f["rows/mask"][()].astype(bool),
                row_scale=f["rows/scale"][()],
                lambda_abs=float(f.attrs["lambda_abs"]),
                residual=f["residual"][()],
                settings=ReconstructionSettings(
                    **settings, rows=RowSelection(**rows), measurement=MeasurementOptions(**meas)
                ),
                system_matrix_files=tuple(json.loads(f.attrs["system_matrix_files"])),
                measurement_file=str(f.attrs["measurement_file"]),
                offsets_T=f["grid/offsets_T"][()] if "grid/offsets_T" in f else None,
            )
    except (OSError, KeyError) as exc:
        raise MDFError(f"cannot be read as an orientation image ({type(exc).__name__}: {exc})", path=path) from exc
