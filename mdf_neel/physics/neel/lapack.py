"""LAPACK's banded LU (``dgbtrf``/``dgbtrs``) and dense LU (``getrf``) callable from
``@njit(cache=True)`` kernels.

numba's own LAPACK bridge exposes ``getrf`` but not the banded routines. This module does
the same thing for ``dgbtrf``/``dgbtrs``: it takes their addresses from scipy's
``cython_lapack`` capsules, registers them with LLVM under fixed symbol names at import,
and declares them as :class:`numba.types.ExternalFunction`. Compiled code refers to the
symbol by NAME, never by address, so kernels that call them can be cached on disk; the
only requirement is that this module is imported (the symbols registered) before such a
cached kernel is loaded -- every kernel module imports it (or :mod:`.band`) first.

Fortran calling convention: every argument by pointer; integers are 32-bit
(``LAPACK_INT``, scipy's ``cython_lapack`` ``int``). The ``*_ptr`` arguments are
``array.ctypes`` of contiguous arrays of the right dtype.

Threads: scipy's OpenBLAS would run parts of a blocked ``dgbtrf`` (``dgemm``/``dtrsm``)
on its own thread pool; called from numba's ``prange`` workers that oversubscribes the
cores (measured: the full model at D = 22 nm, K = 1100 J/m³ took 1.23 s per trajectory
instead of 0.71 s even on ONE numba thread). :func:`single_threaded_blas` limits the BLAS
libraries to one thread around the batched kernels.
"""

from __future__ import annotations

import ctypes
import threading
from contextlib import contextmanager

import numpy as np
import scipy.linalg.cython_lapack as _cython_lapack
from llvmlite import binding as _llvm
from numba import types
from numba.np.linalg import F_INT_nptype as _numba_getrf_int
from numba.np.linalg import _LAPACK as _numba_lapack

LAPACK_INT = np.int32
"""Integer type of the LAPACK routines (scipy's ``cython_lapack`` ``int``)."""

_SYMBOL_PREFIX = "mdf_neel_"

_get_name = ctypes.pythonapi.PyCapsule_GetName
_get_name.restype = ctypes.c_char_p
_get_name.argtypes = [ctypes.py_object]
_get_pointer = ctypes.pythonapi.PyCapsule_GetPointer
_get_pointer.restype = ctypes.c_void_p
_get_pointer.argtypes = [ctypes.py_object, ctypes.c_char_p]


def _capsule_address(name: str) -> int:
    """Address of ``scipy.linalg.cython_lapack.<name>`` (a C function pointer)."""
    capsule = _cython_lapack.__pyx_capi__[name]
    signature = _get_name(capsule)
    if b"int *" not in signature or b"long" in signature:  # pragma: no cover
        raise ImportError(
            f"unexpected integer type in scipy's cython_lapack.{name}: {signature.decode()!r} (expected 32-bit int)"
        )
    address = _get_pointer(capsule, signature)
    if not address:  # pragma: no cover
        raise ImportError(f"scipy.linalg.cython_lapack.{name}: null function pointer")
    return address


def _register(name: str) -> str:
    symbol = _SYMBOL_PREFIX + name
    _llvm.add_symbol(symbol, _capsule_address(name))
    return symbol


_p = types.voidptr
# void dgbtrf(int *m, int *n, int *kl, int *ku, double *ab, int *ldab, int *ipiv, int *info)
dgbtrf = types.ExternalFunction(_register("dgbtrf"), types.void(_p, _p, _p, _p, _p, _p, _p, _p))
# void dgbtrs(char *trans, int *n, int *kl, int *ku, int *nrhs, double *ab, int *ldab,
#             int *ipiv, double *b, int *ldb, int *info)
dgbtrs = types.ExternalFunction(_register("dgbtrs"), types.void(_p, _p, _p, _p, _p, _p, _p, _p, _p, _p, _p))

# dense LU: numba's own bridge (its integer type may be 64-bit with an ILP64 LAPACK)
dgetrf = _numba_lapack().numba_xxgetrf(types.float64)
"""``getrf(kind, m, n, a, lda, ipiv)`` of numba's helper library (kind ``ord("d")``)."""
GETRF_INT = _numba_getrf_int
"""Integer type of :data:`dgetrf`'s pivots."""

_controller = None
_controller_lock = threading.Lock()


@contextmanager
def single_threaded_blas():
    """Limit every loaded BLAS library (OpenBLAS, MKL, ...) to one thread in this block
    (threadpoolctl); the previous limits are restored on exit.

    The limit is process-wide: BLAS calls of other Python threads during the block run
    single-threaded too; two overlapping blocks from different threads may restore the
    outer limit early (a slowdown, never a wrong result)."""
    global _controller
    try:
        from threadpoolctl import ThreadpoolController
    except ImportError:  # pragma: no cover - threadpoolctl < 3 or absent
        try:
            from threadpoolctl import threadpool_limits
        except ImportError:
            yield  # no way to limit: run as is
            return
        with threadpool_limits(limits=1, user_api="blas"):
            yield
        return
    with _controller_lock:
        if _controller is None:  # scanning the loaded libraries costs ~1 ms: once
            _controller = ThreadpoolController()
        controller = _controller
    with controller.limit(limits=1, user_api="blas"):
        yield


__all__ = ["LAPACK_INT", "GETRF_INT", "dgbtrf", "dgbtrs", "dgetrf", "single_threaded_blas"]
