"""Check the global-heap references of a variable-length dataset before reading it.

Variable-length strings live in HDF5 "global heap collections"; a dataset stores, per
element, a 16-byte reference (length, collection address, object index). Two kinds of
damage make the HDF5 library misbehave instead of failing when such a dataset is read:

* a collection whose object list holds a free-space entry of size 0: the library's
  parser never advances and loops forever (seen with HDF5 2.0.0 on a zeroed block);
* a reference with a corrupt length: the library allocates up to 4 GiB for it before
  it notices the bad address (18 s and 3 GiB of memory for one string).

:func:`vlen_problem` reads the references from the file itself (contiguous storage
only) and walks each referenced collection the way the library does, so readers can
refuse such a dataset with an :class:`~mdf_neel.errors.MDFError` first. File layout
from the HDF5 file format specification, version 3, section III.E (global heap).
"""

from __future__ import annotations

import os

import h5py

__all__ = ["vlen_problem"]

_SIGNATURE = b"GCOL"
_HEADER = 16  # signature 4, version 1, reserved 3, collection size 8
_OBJECT_HEADER = 16  # index 2, reference count 2, reserved 4, object size 8
_REFERENCE = 16  # sequence length 4, collection address 8, object index 4
_MAX_COLLECTION = 2**32  # far above any collection a writer makes; a larger size is damage


def _u(raw: bytes, at: int, n: int) -> int:
    return int.from_bytes(raw[at : at + n], "little")


def _collection_objects(fh, address: int, file_size: int) -> dict | str:
    """{object index: size} of the collection at ``address``, or why it cannot be parsed."""
    if address + _HEADER > file_size:
        return f"global heap collection at byte {address} lies past the end of the file"
    fh.seek(address)
    head = fh.read(_HEADER)
    if head[:4] != _SIGNATURE or head[4] != 1:
        return f"no global heap collection at byte {address} (bad signature or version)"
    size = _u(head, 8, 8)
    if size < _HEADER or size > _MAX_COLLECTION or address + size > file_size:
        return f"global heap collection at byte {address} declares an impossible size {size}"
    fh.seek(address)
    raw = fh.read(size)
    objects, p = {}, _HEADER
    while p < size:
        if p + _OBJECT_HEADER > size:
            break  # the library takes a tail too short for a header as free space
        index, length = _u(raw, p, 2), _u(raw, p + 8, 8)
        need = (_OBJECT_HEADER + (length + 7) // 8 * 8) if index > 0 else length
        if need == 0 or need > size - p:
            return f"global heap collection at byte {address} has a malformed object list at byte {address + p}"
        objects[index] = length
        p += need
    return objects


def vlen_problem(ds) -> str | None:
    """Why reading the variable-length dataset ``ds`` is unsafe, or None.

    Parameters
    ----------
    ds : h5py.Dataset
        Any dataset; only variable-length types with contiguous storage in a file on
        disk opened read-only are checked (others give None).

    Returns
    -------
    str or None
        A one-line reason naming the byte offset concerned.

    Examples
    --------
    >>> import os, tempfile, h5py
    >>> with tempfile.TemporaryDirectory() as tmp:
    ...     path = os.path.join(tmp, "s.h5")
    ...     with h5py.File(path, "w") as f:
    ...         f["s"] = "some text"
    ...     with h5py.File(path, "r") as f:
    ...         before = vlen_problem(f["s"])
    ...         heap = open(path, "rb").read().index(b"GCOL")
    ...     with open(path, "r+b") as fh:  # zero the collection's object list
    ...         _ = fh.seek(heap + 16)
    ...         _ = fh.write(bytes(64))
    ...     with h5py.File(path, "r") as f:
    ...         after = vlen_problem(f["s"])
    >>> before is None, "malformed object list" in after
    (True, True)
    """
    dtype = ds.dtype
    vlen = h5py.check_vlen_dtype(dtype) is not None or (
        h5py.check_string_dtype(dtype) is not None and h5py.check_string_dtype(dtype).length is None
    )
    if not vlen:
        return None
    path = ds.file.filename
    offset = ds.id.get_offset()
    if offset is None or ds.file.mode != "r" or ds.file.driver not in ("sec2", "stdio") or not os.path.isfile(path):
        return None  # a file open for writing may hold its heap in the library's cache only
    count = ds.id.get_storage_size() // _REFERENCE
    base = ds.file.userblock_size
    file_size = os.path.getsize(path)
    if offset + count * _REFERENCE > file_size:
        return f"its references (bytes {offset} to {offset + count * _REFERENCE}) lie past the end of the file"
    collections: dict = {}
    with open(path, "rb") as fh:
        fh.seek(offset)
        refs = fh.read(count * _REFERENCE)
        for i in range(count):
            length = _u(refs, i * _REFERENCE, 4)
            address = _u(refs, i * _REFERENCE + 4, 8)
            index = _u(refs, i * _REFERENCE + 12, 4)
            if length == 0:
                continue  # empty or null: the library reads no heap object
            where = address + base
            if where not in collections:
                collections[where] = _collection_objects(fh, where, file_size)
            objects = collections[where]
            if isinstance(objects, str):
                return f"element {i}: {objects}"
            if index not in objects or index == 0:
                return f"element {i} refers to object {index}, absent from the global heap collection at byte {where}"
            if length > objects[index]:
                return (
                    f"element {i} declares {length} bytes but object {index} of the global heap collection "
                    f"at byte {where} holds {objects[index]}"
                )
    return None
