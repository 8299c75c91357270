"""Run independent simulation tasks in this process, in local processes or on dask.

Only the calling process receives results (``on_result``); workers never write files,
so whatever the caller stores stays consistent when a worker dies.
"""

from __future__ import annotations

import concurrent.futures as cf
import logging
import multiprocessing
import os
import sys

__all__ = ["run_tasks", "resolve_workers", "progress_hook", "single_threaded"]

logger = logging.getLogger("mdf_neel.simulate")

_THREAD_VARIABLES = ("NUMBA_NUM_THREADS", "OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS")


def resolve_workers(workers) -> int:
    """Number of local worker processes: ``None``/1 → 1 (in-process), 0/-1 → all CPUs."""
    if workers is None:
        return 1
    n = int(workers)
    if n <= 0:
        return max(1, os.cpu_count() or 1)
    return n


def single_threaded(particle: dict, model: str, workers: int, scheduler) -> dict:
    """Physics keywords for tasks: one numba thread per Néel task when tasks run in parallel."""
    out = dict(particle)
    # "neel-brown" is left out: its sparse LU is serial and it solves members one after the other
    if model in ("neel", "brown") and (scheduler is not None or workers > 1) and out.get("n_threads") is None:
        out["n_threads"] = 1
    return out


def progress_hook(progress, total: int, *, already: int = 0, desc: str, unit: str):
    """``(update(n), close())`` for ``progress`` = None/True/False (a bar) or a callable.

    A callable is called as ``progress(done, total)`` after each update.
    """
    if callable(progress):
        state = {"done": already}

        def update(n=1):
            state["done"] += n
            progress(state["done"], total)

        return update, lambda: None
    from .._progress import progress as bar_factory

    bar = bar_factory(total=total, desc=desc, enabled=progress, unit=unit)
    if already:
        bar.update(already)
    return bar.update, bar.close


def _init_worker():
    """One thread per worker process (set before numba or a BLAS is first loaded)."""
    for name in _THREAD_VARIABLES:
        if name.startswith("NUMBA") and "numba" in sys.modules:
            continue
        os.environ[name] = "1"


def _client(scheduler):
    """A ``distributed.Client`` for an address, a cluster object or a client."""
    try:
        import distributed
    except ImportError as exc:  # pragma: no cover - optional dependency
        raise ImportError("scheduler= needs dask.distributed (pip install 'mdf-neel[distributed]')") from exc
    if isinstance(scheduler, distributed.Client):
        return scheduler, False
    return distributed.Client(scheduler), True


def run_tasks(function, tasks, *, on_result, workers=None, scheduler=None, max_retries=3):
    """Apply ``function`` to every task and hand each result to ``on_result``.

    Parameters
    ----------
    function : callable
        A module-level (picklable) function ``function(payload) -> result``.
    tasks : dict
        ``{key: payload}``; keys are hashable and identify results.
    on_result : callable
        ``on_result(key, result)``, called in this process as results arrive (any order).
    workers : int, optional
        Local worker processes (``None`` or 1: run in this process; 0 or negative: one
        per CPU). Ignored with ``scheduler``.
    scheduler : str or distributed.Client or distributed.LocalCluster, optional
        Run on an existing dask.distributed cluster (its address, a cluster object or a
        client) instead of local processes.
    max_retries : int
        With dask: how often a task whose worker was lost is submitted again.

    Raises
    ------
    Exception
        The first task error (after the results that arrived before it were handed on).
    """
    tasks = dict(tasks)
    if not tasks:
        return
    if scheduler is not None:
        _run_dask(function, tasks, on_result, scheduler, max_retries)
        return
    n = min(resolve_workers(workers), len(tasks))
    if n == 1:
        for key, payload in tasks.items():
            on_result(key, function(payload))
        return
    context = multiprocessing.get_context("spawn")
    with cf.ProcessPoolExecutor(max_workers=n, mp_context=context, initializer=_init_worker) as pool:
        futures = {pool.submit(function, payload): key for key, payload in tasks.items()}
        try:
            for future in cf.as_completed(futures):
                on_result(futures[future], future.result())
        except BaseException:
            for future in futures:
                future.cancel()
            raise


def _run_dask(function, tasks, on_result, scheduler, max_retries):
    import distributed

    client, own = _client(scheduler)
    try:
        attempts = dict.fromkeys(tasks, 0)
        futures = {client.submit(function, payload, pure=False): key for key, payload in tasks.items()}
        queue = distributed.as_completed(list(futures))
        for future in queue:
            key = futures.pop(future)
            try:
                result = future.result()
            except distributed.client.FutureCancelledError:
                raise
            except Exception as exc:  # a lost worker: submit again
                if not _is_lost_worker(exc) or attempts[key] >= max_retries:
                    for other in futures:
                        other.cancel()
                    raise
                attempts[key] += 1
                logger.warning("task %r lost its worker (%s); resubmitting (attempt %d)", key, exc, attempts[key] + 1)
                again = client.submit(function, tasks[key], pure=False)
                futures[again] = key
                queue.add(again)
                continue
            on_result(key, result)
    finally:
        if own:
            client.close()


def _is_lost_worker(exc) -> bool:
    from distributed.scheduler import KilledWorker  # only called by _run_dask: distributed is there

    return isinstance(exc, KilledWorker) or type(exc).__name__ in ("KilledWorker", "CommClosedError")
