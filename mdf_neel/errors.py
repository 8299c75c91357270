"""Exception types of mdf_neel."""

from __future__ import annotations

__all__ = ["MDFError"]


class MDFError(ValueError):
    """A file is not a readable or conformant MDF file.

    The message always names the file and, where it applies, the dataset and
    what was expected (shape, dtype, value range).

    Parameters
    ----------
    message : str
        What is wrong and what was expected.
    path : str or os.PathLike, optional
        The file concerned.
    dataset : str, optional
        The HDF5 path of the dataset or group concerned (e.g. ``/measurement/data``).
    """

    def __init__(self, message: str, *, path=None, dataset: str | None = None):
        self.path = None if path is None else str(path)
        self.dataset = dataset
        self.reason = message
        where = []
        if self.path is not None:
            where.append(f"file {self.path!r}")
        if dataset is not None:
            where.append(f"dataset {dataset!r}")
        prefix = (", ".join(where) + ": ") if where else ""
        super().__init__(prefix + message)
