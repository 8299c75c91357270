"""MDF v2.1 (HDF5) files: read, write, validate, inspect and convert.

Public functions
----------------
read_system_matrix, read_measurement
    File → :class:`~mdf_neel.systemmatrix.SystemMatrix` / ``Measurement``.
write_system_matrix, write_measurement
    The reverse, atomically and conformantly (``docs/mdf-writing.md``).
validate
    Conformance problems of a file as readable lines (empty list: conforms).
inspect
    JSON-serialisable summary of a file.
convert
    v1 → v2, decompression, frequency selection, background correction, SNR.
estimate_snr, select_frequencies, frequency_mask, compress
    SNR estimate, frequency selection and compression of a
    :class:`~mdf_neel.systemmatrix.SystemMatrix` in memory.
expand_frequencies, mpifiles_frequencies
    Every rfft bin present (zero rows) for readers that ignore frequency selection;
    bin frequencies exactly as MPIFiles computes them.

Only this subpackage imports h5py. The functions live in the modules
``validation``, ``inspection`` and ``conversion`` (names chosen so that no module is
shadowed by a function of the same name). The reader and converter are imported on
first use.
"""

from __future__ import annotations

from .._lazy import lazy_attributes
from ..errors import MDFError
from .writer import write_measurement, write_system_matrix

from .inspection import inspect
from .validation import validate

_LAZY = {
    "read_system_matrix": ".reader",
    "read_measurement": ".reader",
    "convert": ".conversion",
    "estimate_snr": ".conversion",
    "select_frequencies": ".conversion",
    "frequency_mask": ".conversion",
    "compress": ".conversion",
    "expand_frequencies": ".conversion",
    "mpifiles_frequencies": ".conversion",
}

__all__ = ["MDFError", "write_system_matrix", "write_measurement", "validate", "inspect", *_LAZY]

__getattr__, __dir__ = lazy_attributes(__name__, _LAZY)
