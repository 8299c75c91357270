"""Atomic file creation: write to a temporary file beside the target, then rename."""

from __future__ import annotations

import contextlib
import os
import tempfile


@contextlib.contextmanager
def atomic_path(path, suffix=None):
    """Yield a temporary path next to ``path``; on success rename it onto ``path``.

    If the body raises (or the process dies), ``path`` keeps its previous content
    (or stays absent) and the temporary file is removed (on exceptions). The
    temporary name starts with ``.`` and ends with ``.partial`` so that half-written
    files are recognisable.

    Parameters
    ----------
    path : str or os.PathLike
        Final destination.
    suffix : str, optional
        Suffix of the temporary file (default: ``path``'s own suffix + ``.partial``).
    """
    path = os.fspath(path)
    directory = os.path.dirname(os.path.abspath(path))
    base = os.path.basename(path)
    fd, tmp = tempfile.mkstemp(prefix=f".{base}.", suffix=suffix or ".partial", dir=directory)
    os.close(fd)
    # mkstemp creates mode 0600; give the result the mode a plain open() would (or keep
    # the mode of the file being replaced).
    try:
        mode = os.stat(path).st_mode & 0o7777
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        mode = 0o666 & ~umask
    os.chmod(tmp, mode)
    try:
        yield tmp
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())
        os.replace(tmp, path)
        fsync_directory(directory)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise


def fsync_directory(directory) -> None:
    """Make renames inside ``directory`` durable (fsync of the directory; a no-op where unsupported)."""
    with contextlib.suppress(OSError):
        fd = os.open(os.fspath(directory), os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)
