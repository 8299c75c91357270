"""Safe, explicit access to HDF5 objects of an MDF file.

Every MDF module reads through these helpers so that bad input always ends in an
:class:`~mdf_neel.errors.MDFError` naming the file, the dataset and what was
expected, never in a raw ``KeyError``/``OSError``/``IndexError``.

What the helpers refuse
-----------------------
* files that are not HDF5, truncated files, unreadable objects;
* external links (``h5py.ExternalLink``) anywhere on the way to an object;
* datasets with external raw storage (``H5Pset_external``);
* virtual datasets with a source in another file;
* datasets declaring more than :data:`MAX_ELEMENTS` elements, and contiguous
  datasets whose raw storage was never allocated (they would read as fill values).

API (small on purpose)
----------------------
``open_file(path)``                      open read-only (``with open_file(p) as f:``)
``exists(f, name)``                      does a (safe) object exist at ``name``
``get_dataset(f, name, ...)``            checked ``h5py.Dataset`` (or None), for hyperslab reads
``get_group(f, name, required)``         checked ``h5py.Group`` (or None)
``read_scalar(f, name, kind, ...)``      Python int / float / bool
``read_string(f, name, ...)``            Python str
``read_strings(f, name, ...)``           numpy object array of str (any shape)
``read_array(f, name, kind, ...)``       numpy array converted to the kind's dtype
``check_tree(f)``                        refuse external links / storage anywhere in the file
``fail(f, name, message)``               build the MDFError for ``f``/``name``

Kinds: ``"int"`` (any integer type → int64), ``"float"`` (integer or float →
float64), ``"bool"`` (0/1 stored as int8, uint8, HDF5 enum or bitfield → bool),
``"complex"`` (numpy complex or an ``{r, i}`` compound → complex64/complex128),
``"real"`` (integer or float, kept as stored), ``"number"`` (real or complex, kept).
"""

from __future__ import annotations

import contextlib
import os

import h5py
import numpy as np

from ..errors import MDFError
from ._heaps import vlen_problem

__all__ = [
    "MAX_ELEMENTS",
    "open_file",
    "exists",
    "get_dataset",
    "get_group",
    "read_scalar",
    "read_string",
    "read_strings",
    "read_array",
    "check_tree",
    "dataset_kind",
    "fail",
]

#: Sanity cap on the number of elements any dataset may declare (2**34 ≈ 1.7e10,
#: i.e. > 130 GiB of complex64). Anything larger is treated as a corrupt header.
MAX_ELEMENTS = 2**34

_KIND_TEXT = {
    "int": "an integer type",
    "float": "a real number type (integer or float)",
    "bool": "an int8 flag with values 0/1",
    "complex": "a complex type (compound {r, i} of one float type)",
    "real": "a real number type (integer or float)",
    "number": "a numeric type (real, or complex compound {r, i})",
}

#: What h5py raises on a corrupt object; readers turn these into MDFError or skip the object.
H5_ERRORS = (OSError, KeyError, RuntimeError, TypeError, ValueError, IndexError, AttributeError)


def _fname(f) -> str:
    try:
        return f.file.filename
    except ValueError:  # h5py's answer for a closed file
        return "<closed file>"


def fail(f, name: str | None, message: str) -> MDFError:
    """An :class:`MDFError` for file ``f`` (an open h5py object or a path) and dataset ``name``."""
    path = f if isinstance(f, (str, os.PathLike)) else _fname(f)
    return MDFError(message, path=path, dataset=name)


@contextlib.contextmanager
def open_file(path):
    """Open an HDF5 file read-only; any failure becomes :class:`MDFError`.

    Parameters
    ----------
    path : str or os.PathLike

    Yields
    ------
    h5py.File
    """
    path = os.fspath(path)
    if not os.path.exists(path):
        raise MDFError("no such file", path=path)
    if os.path.isdir(path):
        raise MDFError("is a directory, expected an HDF5 (.mdf/.h5/.hdf) file", path=path)
    try:
        is_hdf5 = h5py.is_hdf5(path)
    except OSError as exc:
        raise MDFError(f"cannot be read ({exc})", path=path) from exc
    if not is_hdf5:
        raise MDFError("is not an HDF5 file (no HDF5 signature)", path=path)
    try:
        f = h5py.File(path, "r")
    except H5_ERRORS as exc:
        raise MDFError(f"cannot be opened as HDF5 (truncated or corrupt?): {exc}", path=path) from exc
    try:
        yield f
    finally:
        with contextlib.suppress(Exception):
            f.close()


def _resolve(f, name: str):
    """Walk ``name`` component by component without following external links.

    Returns the object or None if absent; raises MDFError for external or
    dangling links and unreadable objects.
    """
    parts = [p for p in name.split("/") if p]
    node = f.file["/"] if name.startswith("/") else f
    walked = ""
    for part in parts:
        walked += "/" + part
        if not isinstance(node, h5py.Group):
            raise fail(f, walked, f"{walked.rsplit('/', 1)[0] or '/'} is a dataset, expected a group")
        try:
            link = node.get(part, getlink=True)
        except H5_ERRORS as exc:
            raise fail(f, walked, f"link cannot be read: {exc}") from exc
        if link is None:
            return None
        if isinstance(link, h5py.ExternalLink):
            raise fail(f, walked, f"is an external link to {link.filename!r}:{link.path!r}; external links are refused")
        try:
            node = node[part]
        except H5_ERRORS as exc:
            kind = "soft link is dangling" if isinstance(link, h5py.SoftLink) else "object cannot be opened"
            raise fail(f, walked, f"{kind}: {exc}") from exc
    return node


def exists(f, name: str) -> bool:
    """True if an object exists at ``name`` (external links raise MDFError)."""
    return _resolve(f, name) is not None


def get_group(f, name: str, required: bool = True):
    """The group at ``name`` (or None when absent and not required)."""
    obj = _resolve(f, name)
    if obj is None:
        if required:
            raise fail(f, name, "required group is missing")
        return None
    if not isinstance(obj, h5py.Group):
        raise fail(f, name, "is a dataset, expected a group")
    return obj


def _check_storage(f, name: str, ds) -> None:
    """Refuse external storage, out-of-file virtual sources, absurd or unallocated data."""
    try:
        size = int(np.prod(ds.shape, dtype=np.float64)) if ds.shape is not None else 0
    except H5_ERRORS as exc:
        raise fail(f, name, f"dataspace cannot be read: {exc}") from exc
    if size > MAX_ELEMENTS:
        raise fail(f, name, f"declares shape {ds.shape} ({size} elements), more than the sanity cap of {MAX_ELEMENTS}")
    try:
        external = ds.external
    except H5_ERRORS:
        external = None
    if external:
        raise fail(
            f, name, f"stores its data in external files {[e[0] for e in external]}; external storage is refused"
        )
    try:
        virtual = ds.is_virtual
    except H5_ERRORS:
        virtual = False
    if virtual:
        own = os.path.abspath(_fname(f))
        for src in ds.virtual_sources():
            if src.file_name != "." and os.path.abspath(src.file_name) != own:
                raise fail(f, name, f"is a virtual dataset with a source in another file ({src.file_name!r}); refused")
        return
    try:
        layout = ds.id.get_create_plist().get_layout()
        if layout == h5py.h5d.CONTIGUOUS and size > 0 and ds.id.get_storage_size() == 0:
            raise fail(f, name, "raw data storage was never allocated (the dataset was created but not written)")
    except MDFError:
        raise
    except H5_ERRORS as exc:
        raise fail(f, name, f"dataset layout cannot be read: {exc}") from exc


def _check_heap_references(f, name: str, ds) -> None:
    """Refuse variable-length data whose heap references would hang or exhaust HDF5 (see _heaps)."""
    try:
        problem = vlen_problem(ds)
    except (*H5_ERRORS, EOFError) as exc:
        problem = f"its storage cannot be located: {exc}"
    if problem:
        raise fail(f, name, f"variable-length data cannot be read safely (corrupt file?): {problem}")


def dataset_kind(dtype: np.dtype) -> str | None:
    """Classify an h5py dtype: "int", "float", "bool"(enum/bitfield-like), "complex", "string" or None."""
    if h5py.check_string_dtype(dtype) is not None:
        return "string"
    if dtype.names is not None:
        if (
            len(dtype.names) == 2
            and dtype.names == ("r", "i")
            and dtype.fields["r"][0] == dtype.fields["i"][0]
            and dtype.fields["r"][0].kind in "iuf"
            and dtype.fields["r"][0].shape == ()
        ):
            return "complex"
        return None
    if h5py.check_enum_dtype(dtype) is not None:
        return "bool"
    if dtype.kind == "c":
        return "complex"
    if dtype.kind in "iu":
        return "int"
    if dtype.kind == "b":
        return "bool"
    if dtype.kind == "f":
        return "float"
    return None


_ACCEPTS = {
    "int": {"int"},
    "float": {"int", "float"},
    "bool": {"int", "bool"},
    "complex": {"complex"},
    "real": {"int", "float"},
    "number": {"int", "float", "complex"},
}


def _shape_text(shape) -> str:
    return "(" + ", ".join("*" if s is None else str(s) for s in shape) + (",)" if len(shape) == 1 else ")")


def _check_shape(f, name, actual, shape, ndim):
    if ndim is not None:
        ndims = (ndim,) if isinstance(ndim, int) else tuple(ndim)
        if len(actual) not in ndims:
            want = " or ".join(str(n) for n in ndims)
            raise fail(f, name, f"has shape {actual}, expected {want} dimension(s)")
    if shape is not None:
        shape = tuple(shape)
        if len(shape) != len(actual) or any(s is not None and s != a for s, a in zip(shape, actual)):
            raise fail(f, name, f"has shape {actual}, expected {_shape_text(shape)}")


def get_dataset(f, name: str, kind: str | None = None, *, shape=None, ndim=None, required: bool = True):
    """A checked dataset for direct (hyperslab) reading, or None if absent and not required.

    Parameters
    ----------
    f : h5py.File or h5py.Group
    name : str
        Path of the dataset (absolute, e.g. ``"/measurement/data"``).
    kind : str, optional
        Expected kind (see module docstring); checked against the stored type.
    shape : tuple, optional
        Expected shape; ``None`` entries match any length.
    ndim : int or tuple of int, optional
        Expected number(s) of dimensions.
    required : bool
        Raise MDFError when absent.
    """
    obj = _resolve(f, name)
    if obj is None:
        if required:
            what = (
                f" ({_KIND_TEXT[kind]}" + (f", shape {_shape_text(shape)})" if shape is not None else ")")
                if kind
                else ""
            )
            raise fail(f, name, f"required dataset is missing{what}")
        return None
    if not isinstance(obj, h5py.Dataset):
        raise fail(f, name, f"is a {type(obj).__name__}, expected a dataset")
    _check_storage(f, name, obj)
    _check_heap_references(f, name, obj)
    if obj.shape is None:
        raise fail(f, name, "has a null dataspace (no value), expected data")
    if kind is not None:
        got = dataset_kind(obj.dtype)
        if got not in _ACCEPTS[kind]:
            raise fail(f, name, f"has type {_dtype_text(obj.dtype)}, expected {_KIND_TEXT[kind]}")
    _check_shape(f, name, obj.shape, shape, ndim)
    return obj


def _dtype_text(dtype) -> str:
    if h5py.check_string_dtype(dtype) is not None:
        return "string"
    if dtype.names is not None:
        return f"compound {list(dtype.names)}"
    return str(dtype)


def _convert(f, name, raw, kind):
    """Convert raw values read from a dataset of an accepted type to the kind's dtype."""
    raw = np.asarray(raw)
    if kind == "int":
        return raw.astype(np.int64)
    if kind == "float":
        return raw.astype(np.float64)
    if kind == "bool":
        vals = raw.astype(np.int64)
        if vals.size and (vals.min() < 0 or vals.max() > 1):
            bad = np.unique(vals[(vals < 0) | (vals > 1)])[:5].tolist()
            raise fail(f, name, f"holds values {bad}, expected 0 or 1 (boolean flag)")
        return vals.astype(bool)
    if kind == "complex" or (kind == "number" and raw.dtype.names is not None):
        if raw.dtype.names is not None:  # {r, i} compound, e.g. integer based
            base = raw.dtype.fields["r"][0]
            ctype = np.complex64 if base.kind == "f" and base.itemsize <= 4 else np.complex128
            out = np.empty(raw.shape, dtype=ctype)
            out.real = raw["r"]
            out.imag = raw["i"]
            return out
        return raw
    return raw


def read_array(f, name: str, kind: str, *, shape=None, ndim=None, required: bool = True, default=None, selection=()):
    """Read a numeric dataset as a numpy array of the kind's dtype.

    Parameters
    ----------
    f, name, kind, shape, ndim, required
        See :func:`get_dataset`.
    default : object, optional
        Returned when the dataset is absent and not required.
    selection : tuple, optional
        h5py selection (slices / one increasing index list) applied on read.

    Returns
    -------
    numpy.ndarray
    """
    ds = get_dataset(f, name, kind, shape=shape, ndim=ndim, required=required)
    if ds is None:
        return default
    try:
        raw = ds[selection] if selection != () else ds[()]
    except H5_ERRORS as exc:
        raise fail(f, name, f"data cannot be read (corrupt file?): {exc}") from exc
    return _convert(f, name, raw, kind)


def read_scalar(f, name: str, kind: str = "float", *, required: bool = True, default=None, minimum=None, maximum=None):
    """Read a scalar numeric dataset (shape ``()``; a length-1 array is tolerated).

    Parameters
    ----------
    kind : {"int", "float", "bool"}
    minimum, maximum : number, optional
        Inclusive bounds on the value; violations raise MDFError.

    Returns
    -------
    int, float or bool (or ``default`` when absent and not required)
    """
    ds = get_dataset(f, name, kind, required=required)
    if ds is None:
        return default
    if ds.shape not in ((), (1,)):
        raise fail(f, name, f"has shape {ds.shape}, expected a scalar (shape ())")
    value = read_array(f, name, kind).reshape(())[()]
    value = {"int": int, "float": float, "bool": bool}[kind](value)
    if kind == "float" and not np.isfinite(value):
        raise fail(f, name, f"is {value}, expected a finite number")
    if minimum is not None and value < minimum:
        raise fail(f, name, f"is {value}, expected >= {minimum}")
    if maximum is not None and value > maximum:
        raise fail(f, name, f"is {value}, expected <= {maximum}")
    return value


def _decode(f, name, value) -> str:
    if isinstance(value, bytes):
        try:
            value = value.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise fail(f, name, f"is not valid UTF-8/ASCII text: {exc}") from exc
    return str(value).rstrip("\x00")


def read_strings(f, name: str, *, shape=None, ndim=None, required: bool = True, default=None):
    """Read a string dataset of any shape as a numpy object array of ``str``."""
    ds = get_dataset(f, name, None, shape=shape, ndim=ndim, required=required)
    if ds is None:
        return default
    if h5py.check_string_dtype(ds.dtype) is None:
        raise fail(f, name, f"has type {_dtype_text(ds.dtype)}, expected a string")
    try:
        raw = np.asarray(ds[()], dtype=object)
    except H5_ERRORS as exc:
        raise fail(f, name, f"data cannot be read (corrupt file?): {exc}") from exc
    out = np.empty(raw.shape, dtype=object)
    for idx in np.ndindex(raw.shape):
        out[idx] = _decode(f, name, raw[idx])
    return out


def read_string(f, name: str, *, required: bool = True, default=None) -> str | None:
    """Read a scalar string (shape ``()``; a length-1 array is tolerated)."""
    arr = read_strings(f, name, required=required, default=None)
    if arr is None:
        return default
    if arr.shape not in ((), (1,)):
        raise fail(f, name, f"has shape {arr.shape}, expected a scalar string (shape ())")
    return arr.reshape(())[()]


def check_tree(f) -> None:
    """Walk every link of the file; refuse external links, external storage and
    out-of-file virtual sources anywhere (used before copying a file wholesale)."""
    bad, datasets = [], []
    root = f.file["/"]

    def visit(name, link):
        if isinstance(link, h5py.ExternalLink):
            bad.append("/" + name)
        elif isinstance(link, h5py.HardLink) and isinstance(root.get(name), h5py.Dataset):
            datasets.append("/" + name)
        return None

    try:
        root.visititems_links(visit)
    except H5_ERRORS as exc:
        raise fail(f, "/", f"the group tree cannot be walked (corrupt file?): {exc}") from exc
    if bad:
        raise fail(f, bad[0], "is an external link; external links are refused")
    for name in datasets:
        get_dataset(f, name)
