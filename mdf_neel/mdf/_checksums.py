"""SHA-256 checksums of the datasets in the files we write.

A bit flip in the data region of an MDF file changes the numbers a reader returns while
the file stays structurally valid, so the conformance checks cannot see it. Every file
written by :mod:`mdf_neel.mdf.writer` and :mod:`mdf_neel.mdf.conversion` therefore
carries, on each dataset, the SHA-256 of its type, shape and values, and at the root the
list of the datasets so stamped. :func:`mdf_neel.mdf.validate` reports a mismatch, and
``read_system_matrix(..., verify=True)`` / ``read_measurement(..., verify=True)`` raise
:class:`~mdf_neel.errors.MDFError` for it.

What is stored (all names start with ``_``, which MDF leaves to producers)
--------------------------------------------------------------------------
* dataset attribute ``_mdf_neel_sha256``: 64 lowercase hex digits, the SHA-256 of
  the byte stream described in :func:`dataset_checksum`;
* root attribute ``_mdf_neel_checksum_algorithm``: ``"sha256"``;
* root attribute ``_mdf_neel_checksummed``: the sorted absolute paths of the stamped
  datasets (UTF-8), so that a dataset (or its checksum) that disappears is reported too.

All three are fixed-length strings, which HDF5 keeps in the object header: reading them
never goes through the global heap (see :mod:`mdf_neel.mdf._heaps`).

Attributes leave the dataset layout alone: ``/measurement/data`` stays contiguous and
memory-mappable. Files written by others carry no such attributes and are not checked.

The checksum is taken over the values as HDF5 returns them, not over the raw file
bytes: damage anywhere that changes what a reader gets (data region, datatype or
dataspace message, storage address, the heap holding strings) changes it, and damage
in bytes no reader uses (free space, padding) does not matter.
"""

from __future__ import annotations

import hashlib
import logging
import re

import h5py
import numpy as np

from ..errors import MDFError
from . import _h5
from ._heaps import vlen_problem

__all__ = [
    "ATTRIBUTE",
    "ROOT_ALGORITHM",
    "ROOT_LIST",
    "dataset_checksum",
    "stamp_checksums",
    "checksum_problems",
    "verify_checksums",
]

logger = logging.getLogger("mdf_neel.mdf.checksums")

#: Dataset attribute holding the SHA-256 (hex) of the dataset.
ATTRIBUTE = "_mdf_neel_sha256"
#: Root attribute naming the algorithm.
ROOT_ALGORITHM = "_mdf_neel_checksum_algorithm"
#: Root attribute listing the stamped datasets (sorted absolute paths).
ROOT_LIST = "_mdf_neel_checksummed"
ALGORITHM = "sha256"
#: Largest slab read at once while hashing (bytes); bounds memory for large datasets.
SLAB_BYTES = 64 * 2**20
#: Problems of one kind listed one by one before the rest are summarised.
_MAX_LINES = 20
_HEX = re.compile(r"^[0-9a-f]{64}$")


class _Unsupported(TypeError):
    """A dataset type whose values have no defined byte stream (references, opaque)."""


def _type_text(dtype: np.dtype) -> str:
    """A canonical text for the numpy type HDF5 returns the values in."""
    info = h5py.check_string_dtype(dtype)
    if info is not None:
        return f"string:{info.encoding}:{info.length}"
    if h5py.check_vlen_dtype(dtype) is not None:
        return f"vlen:{_type_text(h5py.check_vlen_dtype(dtype))}"
    if dtype.kind == "O":
        raise _Unsupported(f"values of type {dtype} (references or opaque) have no defined checksum")
    if dtype.names is not None:
        return str(dtype.descr)
    return dtype.str


def _slabs(shape: tuple, itemsize: int):
    """Selections covering an array of ``shape`` in C order, each at most ~SLAB_BYTES."""
    if not shape or int(np.prod(shape)) * itemsize <= SLAB_BYTES:
        yield ()
        return
    row = itemsize
    axis = len(shape) - 1
    while axis > 0 and row * shape[axis] <= SLAB_BYTES:
        row *= shape[axis]
        axis -= 1
    step = max(1, SLAB_BYTES // row)
    for lead in np.ndindex(*shape[:axis]):
        for k0 in range(0, shape[axis], step):
            yield tuple(int(i) for i in lead) + (slice(k0, min(shape[axis], k0 + step)),)


def _update_objects(h, values) -> None:
    """Hash variable-length elements (strings, vlen arrays), each with its length first."""
    for item in np.asarray(values, dtype=object).ravel():
        if isinstance(item, str):
            item = item.encode("utf-8")
        elif isinstance(item, np.ndarray):
            item = np.ascontiguousarray(item).tobytes()
        else:
            item = bytes(item)
        h.update(len(item).to_bytes(8, "little"))
        h.update(item)


def dataset_checksum(ds: h5py.Dataset) -> str:
    """SHA-256 of a dataset's type, shape and values.

    Parameters
    ----------
    ds : h5py.Dataset
        An open dataset (any layout).

    Returns
    -------
    str
        64 lowercase hex digits.

    Raises
    ------
    TypeError
        The type has no defined byte stream (object references, opaque data).
    OSError, RuntimeError, ...
        Whatever h5py raises for an unreadable dataset.

    Notes
    -----
    The hashed stream is ``"<type>|<shape>\\n"`` followed by the values in C order:
    the bytes of fixed-size elements exactly as HDF5 returns them in the stored type
    (so the stored byte order), or, for variable-length strings and arrays, each
    element's length (8 bytes, little-endian) and bytes (strings UTF-8). Large
    datasets are read in slabs of at most :data:`SLAB_BYTES`, so memory stays bounded
    and the stream is the same as for one read.

    Examples
    --------
    >>> import io, h5py, numpy as np
    >>> with h5py.File(io.BytesIO(), "w") as f:
    ...     a = dataset_checksum(f.create_dataset("a", data=np.arange(4.0)))
    ...     b = dataset_checksum(f.create_dataset("b", data=np.arange(4.0)))
    ...     c = dataset_checksum(f.create_dataset("c", data=np.arange(4.0).reshape(2, 2)))
    >>> len(a), a == b, a == c  # same values, other shape: other checksum
    (64, True, False)
    """
    h = hashlib.sha256()
    shape = ds.shape
    dtype = ds.dtype
    text = _type_text(dtype)
    h.update(f"{text}|{'null' if shape is None else shape}\n".encode())
    if shape is None or 0 in shape:
        return h.hexdigest()
    if dtype.kind == "O":
        unsafe = vlen_problem(ds)
        if unsafe:
            raise OSError(f"variable-length data cannot be read safely: {unsafe}")
        _update_objects(h, ds[()])
        return h.hexdigest()
    for sel in _slabs(shape, dtype.itemsize):
        h.update(np.ascontiguousarray(ds[sel]).tobytes())
    return h.hexdigest()


def _hard_links(f: h5py.File) -> tuple:
    """(sorted absolute paths of the objects reachable by hard links, {path: why unreadable}).

    The walk only collects names (h5py calls inside the library's callback would turn a
    corrupt link into a ``SystemError``); each link is then looked at on its own.
    """
    names: list = []
    f.file.id.links.visit(names.append)
    root = f.file["/"]
    paths, unreadable = [], {}
    for raw in names:
        path = "/" + raw.decode("utf-8", "surrogateescape")
        try:
            link = root.get(path, getlink=True)
        except _h5.H5_ERRORS as exc:
            unreadable[path] = f"link cannot be read (corrupt file?): {exc}"
            continue
        if isinstance(link, h5py.HardLink):
            paths.append(path)
    return sorted(paths), unreadable


def stamp_checksums(f: h5py.File) -> int:
    """Store the checksum of every dataset of an open, writable file.

    Call it last, when every dataset holds its final values (just before the file is
    closed); a dataset changed afterwards no longer matches.

    Parameters
    ----------
    f : h5py.File
        Opened for writing.

    Returns
    -------
    int
        Number of datasets stamped (datasets of a type without a defined checksum,
        such as object references, are left out with a debug log line).

    Examples
    --------
    >>> import io, h5py, numpy as np
    >>> with h5py.File(io.BytesIO(), "w") as f:
    ...     f["a/b"] = np.arange(3)
    ...     f["c"] = "text"
    ...     n = stamp_checksums(f)
    ...     problems = checksum_problems(f)
    ...     f["a/b"][1] = 7  # changed after stamping
    ...     later = checksum_problems(f)
    >>> n, problems, [path for path, _ in later]
    (2, [], ['/a/b'])
    """
    stamped = []
    for path in _hard_links(f)[0]:
        ds = f.file[path]
        if not isinstance(ds, h5py.Dataset):
            continue
        try:
            digest = dataset_checksum(ds)
        except _Unsupported as exc:
            logger.debug("%s: not checksummed: %s", path, exc)
            if ATTRIBUTE in ds.attrs:
                del ds.attrs[ATTRIBUTE]  # a copied, now stale value must not stay
            continue
        ds.attrs[ATTRIBUTE] = np.bytes_(digest)
        stamped.append(path)
    root = f.file["/"]
    # fixed-length strings: reading them never touches the global heap (see _heaps)
    root.attrs[ROOT_ALGORITHM] = np.bytes_(ALGORITHM)
    encoded = [p.encode("utf-8") for p in stamped]
    root.attrs[ROOT_LIST] = np.array(encoded, dtype=f"S{max([1, *map(len, encoded)])}")
    logger.debug("%s: checksums stamped on %d datasets", f.file.filename, len(stamped))
    return len(stamped)


def _read_attr(obj, name: str):
    """An attribute's value or None if absent; h5py failures propagate (caller reports)."""
    if name not in obj.attrs:
        return None
    return obj.attrs[name]


def _text(value) -> str:
    if isinstance(value, np.ndarray) and value.shape in ((), (1,)):
        value = value.reshape(())[()]
    if isinstance(value, (bytes, np.bytes_)):
        return bytes(value).decode("ascii")
    if isinstance(value, str):
        return value
    raise TypeError(f"a {type(value).__name__}, expected a string")


def _listed(root) -> list | None:
    """The stamped paths recorded at the root, or None when the file has none."""
    value = _read_attr(root, ROOT_LIST)
    if value is None:
        return None
    arr = np.asarray(value, dtype=object).ravel()
    return [v.decode("utf-8") if isinstance(v, bytes) else str(v) for v in arr]


def checksum_problems(f: h5py.File) -> list:
    """Every checksum mismatch of an open file, as ``(dataset path, message)`` pairs.

    Never raises: unreadable attributes, datasets or group trees become problems.
    A file without any checksum gives ``[]`` (it was not written by us, or before
    checksums existed).

    Parameters
    ----------
    f : h5py.File

    Returns
    -------
    list of (str, str)
        Empty when every stamped dataset matches.

    Examples
    --------
    >>> import io, h5py, numpy as np
    >>> with h5py.File(io.BytesIO(), "w") as f:
    ...     f["x"] = np.arange(3.0)
    ...     unstamped = checksum_problems(f)
    ...     _ = stamp_checksums(f)
    ...     del f["x"]
    ...     missing = checksum_problems(f)
    >>> unstamped
    []
    >>> missing  # doctest: +NORMALIZE_WHITESPACE
    [('/x', 'is listed in the root attribute _mdf_neel_checksummed but is missing or carries no checksum')]
    """
    problems: list = []
    try:
        root = f.file["/"]
        paths, unopened = _hard_links(f)
    except (*_h5.H5_ERRORS, SystemError) as exc:
        return [("/", f"the group tree cannot be walked to verify checksums (corrupt file?): {exc}")]
    try:
        listed = _listed(root)
    except (*_h5.H5_ERRORS, UnicodeDecodeError) as exc:
        problems.append(("/", f"root attribute {ROOT_LIST} cannot be read (corrupt file?): {exc}"))
        listed = None
    carrying = []
    for path in paths:
        try:
            obj = root.get(path)
            if not isinstance(obj, h5py.Dataset):
                continue
            ds = _h5.get_dataset(f, path)
            stored = _read_attr(ds, ATTRIBUTE)
        except MDFError as exc:
            unopened[path] = exc.reason
            continue
        except _h5.H5_ERRORS as exc:
            unopened[path] = f"object or attribute {ATTRIBUTE} cannot be read (corrupt file?): {exc}"
            continue
        if stored is None:
            continue
        carrying.append(path)
        problem = _mismatch(ds, stored)
        if problem:
            problems.append((path, problem))
    if listed is None:
        if not carrying:
            logger.info("%s: no checksums stored; values not verified", _h5._fname(f))
        return problems
    missing = sorted(set(listed) - set(carrying))
    unlisted = sorted(set(carrying) - set(listed))
    for path in missing[:_MAX_LINES]:
        why = unopened.get(path, "is missing or carries no checksum")
        problems.append((path, f"is listed in the root attribute {ROOT_LIST} but {why}"))
    for path in unlisted[:_MAX_LINES]:
        problems.append((path, f"carries a checksum but is not listed in the root attribute {ROOT_LIST}"))
    rest = max(0, len(missing) - _MAX_LINES) + max(0, len(unlisted) - _MAX_LINES)
    if rest:
        problems.append(("/", f"... and {rest} more datasets differ from the root attribute {ROOT_LIST}"))
    return problems


def _mismatch(ds, stored) -> str | None:
    """Why ``ds`` does not match the stored attribute value, or None when it does."""
    try:
        stored = _text(stored)
    except (TypeError, UnicodeDecodeError) as exc:
        return f"checksum attribute {ATTRIBUTE} is not a SHA-256 hex digest ({exc})"
    if not _HEX.match(stored):
        return f"checksum attribute {ATTRIBUTE} = {stored[:80]!r} is not a SHA-256 hex digest"
    try:
        actual = dataset_checksum(ds)
    except _h5.H5_ERRORS as exc:
        return f"cannot be read to verify its checksum (corrupt file?): {exc}"
    if actual != stored:
        return (
            f"checksum mismatch: stored sha256 {stored[:12]}..., computed {actual[:12]}...; "
            "type, shape or values changed after the file was written (damaged or edited file)"
        )
    return None


def verify_checksums(f: h5py.File) -> None:
    """Raise :class:`MDFError` naming the file and dataset of the first checksum problem.

    Parameters
    ----------
    f : h5py.File

    Raises
    ------
    MDFError
        A stamped dataset does not match its checksum, cannot be read, or is missing.

    Examples
    --------
    >>> import io, h5py, numpy as np
    >>> with h5py.File(io.BytesIO(), "w") as f:
    ...     f["x"] = np.arange(3.0)
    ...     _ = stamp_checksums(f)
    ...     f["x"][0] = 1.0
    ...     verify_checksums(f)
    Traceback (most recent call last):
    ...
    mdf_neel.errors.MDFError: file ..., dataset '/x': checksum mismatch: ...
    """
    problems = checksum_problems(f)
    if problems:
        path, message = problems[0]
        more = f" (and {len(problems) - 1} more checksum problems)" if len(problems) > 1 else ""
        raise _h5.fail(f, path, message + more)
