"""simulate.dictionary: definition, cache, kill-and-resume, settings refusal, dask."""

import os
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

from mdf_neel.simulate import SystemFunctionDictionary, dictionary, system_functions
from tests.simulate._tiny import SETTINGS, tiny_offsets, tiny_sequence

REPO_ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SMALL = dict(SETTINGS, anisotropies_Jm3=[800.0], angles_deg=[0.0, 45.0, 90.0])  # 6 elements


@pytest.fixture(scope="module")
def reference():
    """An uninterrupted, uncached, in-process run."""
    return dictionary(tiny_sequence(), tiny_offsets(), **SMALL, progress=False)


def test_elements_are_system_functions_and_shapes(reference):
    d = reference
    assert isinstance(d, SystemFunctionDictionary)
    assert d.phi.shape == (2, 1, 3, 2, 7, 6) and d.phi.dtype == np.complex128
    assert d.channels == ("x", "y") and d.model == "anisotropic-equilibrium"
    np.testing.assert_array_equal(d.frequency_indices, SMALL["frequencies"])
    one = system_functions(
        tiny_sequence(),
        tiny_offsets(),
        angle_deg=45.0,
        diameter_m=22e-9,
        anisotropy_Jm3=800.0,
        model="anisotropic-equilibrium",
        frequencies=SMALL["frequencies"],
    )
    # all angles of a (D, K) pair are one physics call; the equilibrium quadrature may
    # then use another node count (both converged to round-off)
    np.testing.assert_allclose(d.element(1, 0, 1), one, rtol=0, atol=1e-12 * np.abs(one).max())
    assert np.all(d.resolution == -1)
    # the angle matters for an anisotropic model
    assert np.abs(d.element(1, 0, 0) - d.element(1, 0, 2)).max() > 1e-3 * np.abs(d.element(1, 0, 0)).max()


def test_langevin_is_computed_once_per_diameter_and_broadcast():
    d = dictionary(tiny_sequence(), tiny_offsets(), **dict(SETTINGS, model="langevin"), progress=False)
    assert d.stats["computed"] == 2
    assert d.phi.shape[:3] == (2, 2, 3)
    for i in range(2):
        assert np.all(d.phi[i] == d.phi[i, 0, 0])
    one = system_functions(
        tiny_sequence(), tiny_offsets(), diameter_m=18e-9, model="langevin", frequencies=SETTINGS["frequencies"]
    )
    np.testing.assert_allclose(d.element(0, 1, 2), one, rtol=0, atol=1e-12 * np.abs(one).max())


def test_cache_roundtrip_and_no_recompute(tmp_path, reference):
    cache = tmp_path / "dict.h5"
    first = dictionary(tiny_sequence(), tiny_offsets(), **SMALL, cache=cache, progress=False)
    assert first.stats == {"computed": 6, "resumed": 0}
    assert cache.exists() and not os.path.exists(str(cache) + ".parts")
    np.testing.assert_array_equal(first.phi, reference.phi)
    again = dictionary(tiny_sequence(), tiny_offsets(), **SMALL, cache=cache, progress=False)
    assert again.stats["computed"] == 0
    np.testing.assert_array_equal(again.phi, reference.phi)
    loaded = SystemFunctionDictionary.load(cache)
    np.testing.assert_array_equal(loaded.phi, reference.phi)
    np.testing.assert_array_equal(loaded.offsets_T, tiny_offsets())
    assert loaded.channels == ("x", "y")


@pytest.mark.parametrize(
    "change, name",
    [
        (dict(model="langevin"), "model"),
        (dict(temperature_K=300.0), "particle"),
        (dict(angles_deg=[0.0, 45.0]), "angles_deg"),
        (dict(frequencies=np.array([1, 2, 3])), "frequency_indices"),
    ],
)
def test_cache_with_other_settings_is_refused(tmp_path, change, name):
    cache = tmp_path / "dict.h5"
    base = dict(SMALL, model="langevin")
    dictionary(tiny_sequence(), tiny_offsets(), **base, cache=cache, progress=False)
    if change.get("model") == "langevin":
        change = dict(model="anisotropic-equilibrium")
    with pytest.raises(ValueError, match=f"other settings.*{name}"):
        dictionary(tiny_sequence(), tiny_offsets(), **dict(base, **change), cache=cache, progress=False)


def test_other_offsets_are_refused(tmp_path):
    cache = tmp_path / "dict.h5"
    dictionary(tiny_sequence(), tiny_offsets(), **dict(SMALL, model="langevin"), cache=cache, progress=False)
    with pytest.raises(ValueError, match="offsets_T"):
        dictionary(tiny_sequence(), -tiny_offsets(), **dict(SMALL, model="langevin"), cache=cache, progress=False)


def test_crash_leaves_journal_and_resume_finishes(tmp_path, reference):
    cache = tmp_path / "dict.h5"

    def boom(done, total):
        if done == 2:
            raise RuntimeError("simulated crash")

    with pytest.raises(RuntimeError, match="simulated crash"):
        dictionary(tiny_sequence(), tiny_offsets(), **SMALL, cache=cache, progress=boom)
    assert not cache.exists()
    parts = [n for n in os.listdir(str(cache) + ".parts") if n.endswith(".npz")]
    assert len(parts) == 2
    # a journal with other settings is refused too
    with pytest.raises(ValueError, match="other settings"):
        dictionary(tiny_sequence(), tiny_offsets(), **dict(SMALL, alpha=0.2), cache=cache, progress=False)
    done = dictionary(tiny_sequence(), tiny_offsets(), **SMALL, cache=cache, progress=False)
    assert done.stats == {"computed": 4, "resumed": 2}
    np.testing.assert_array_equal(done.phi, reference.phi)


SCRIPT = """
import time
from tests.simulate._tiny import SETTINGS, tiny_offsets, tiny_sequence
from mdf_neel.simulate import dictionary

def tick(done, total):
    print(done, flush=True)
    time.sleep(0.4)

if __name__ == "__main__":
    settings = dict(SETTINGS, anisotropies_Jm3=[800.0], angles_deg=[0.0, 45.0, 90.0])
    dictionary(tiny_sequence(), tiny_offsets(), **settings, cache={cache!r}, progress=tick)
"""


def test_kill_minus_9_and_resume_gives_the_uninterrupted_result(tmp_path, reference):
    cache = str(tmp_path / "dict.h5")
    script = textwrap.dedent(SCRIPT.format(cache=cache))
    # -c puts the working directory (the repository root) on sys.path
    proc = subprocess.Popen([sys.executable, "-c", script], stdout=subprocess.PIPE, text=True, cwd=REPO_ROOT)
    try:
        seen = 0
        deadline = time.monotonic() + 120
        while seen < 2 and time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen = int(line)
        assert seen >= 2, "the child did not report progress"
        proc.send_signal(signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
        proc.stdout.close()
    assert proc.returncode == -signal.SIGKILL
    journal = [n for n in os.listdir(cache + ".parts") if n.endswith(".npz")]
    assert 2 <= len(journal) < 6
    resumed = dictionary(tiny_sequence(), tiny_offsets(), **SMALL, cache=cache, progress=False)
    assert resumed.stats["resumed"] == len(journal)
    assert resumed.stats["computed"] == 6 - len(journal)
    np.testing.assert_array_equal(resumed.phi, reference.phi)
    assert not os.path.exists(cache + ".parts")
    np.testing.assert_array_equal(SystemFunctionDictionary.load(cache).phi, reference.phi)


def test_two_local_worker_processes_agree(tmp_path, reference):
    d = dictionary(tiny_sequence(), tiny_offsets(), **SMALL, cache=tmp_path / "d.h5", workers=2, progress=False)
    np.testing.assert_array_equal(d.phi, reference.phi)


def test_dask_local_cluster_agrees_and_survives_a_lost_worker(tmp_path, reference):
    distributed = pytest.importorskip("distributed")
    from mdf_neel.simulate.parallel import run_tasks
    from tests.simulate._tiny import die_once

    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster:
        d = dictionary(
            tiny_sequence(), tiny_offsets(), **SMALL, cache=tmp_path / "d.h5", scheduler=cluster, progress=False
        )
        with distributed.Client(cluster) as client:  # an existing client is accepted too
            again = dictionary(
                tiny_sequence(), tiny_offsets(), **dict(SMALL, model="langevin"), scheduler=client, progress=False
            )
            got = {}
            run_tasks(die_once, {"a": (str(tmp_path / "died"), 21)}, on_result=got.__setitem__, scheduler=client)
    np.testing.assert_array_equal(d.phi, reference.phi)
    assert again.stats["computed"] == 2
    assert (tmp_path / "died").exists() and got == {"a": 42}


def test_neel_pair_shares_one_call_and_matches_per_angle_full_solutions():
    settings = dict(SETTINGS, diameters_m=[18e-9], anisotropies_Jm3=[2000.0], model="neel")
    d = dictionary(
        tiny_sequence(), tiny_offsets(), **settings, rtol=1e-3, resolution=8, method="reduced", progress=False
    )
    assert d.stats == {"computed": 3, "resumed": 0}
    assert np.all(d.resolution == 8)
    for i_a, angle in enumerate(settings["angles_deg"]):
        full = system_functions(
            tiny_sequence(),
            tiny_offsets(),
            angle_deg=angle,
            diameter_m=18e-9,
            anisotropy_Jm3=2000.0,
            model="neel",
            frequencies=settings["frequencies"],
            rtol=1e-3,
            resolution=8,
            method="full",
        )
        err = np.linalg.norm(d.element(0, 0, i_a) - full) / np.linalg.norm(full)
        assert err < 3e-3, (angle, err)


def test_every_numerical_setting_and_the_solver_generation_change_the_settings(monkeypatch):
    from mdf_neel.simulate import accuracy
    from mdf_neel.simulate._dictionary import dictionary_settings

    kw = dict(diameters_m=[2e-8], anisotropies_Jm3=[0.0], angles_deg=[0.0], frequencies=np.array([1]), channels=("x",))

    def settings(model="neel", **particle):
        return dictionary_settings(tiny_sequence(), tiny_offsets(), model=model, particle=particle, **kw)

    base = settings()
    assert base["solver"]["generation"] == accuracy.SOLVER_GENERATION
    assert settings(model="anisotropic-equilibrium")["solver"] == "closed-form"
    for changed in (
        dict(rtol=1e-4),
        dict(step_tolerance=1e-6),
        dict(resolution=9),
        dict(method="full"),
        dict(verify=False),
    ):
        assert settings(**changed) != base, changed
    assert settings(n_threads=1) == base  # threads do not change results
    monkeypatch.setattr(accuracy, "SOLVER_GENERATION", "another solver")
    assert settings() != base


def test_cache_of_another_solver_generation_is_refused_and_the_shared_cache_recomputes(
    tmp_path, monkeypatch, private_cache_dir
):
    from mdf_neel.simulate import accuracy

    kw = dict(
        SETTINGS,
        diameters_m=[18e-9],
        anisotropies_Jm3=[800.0],
        angles_deg=[0.0],
        model="neel",
        frequencies=np.array([8, 9, 17]),
        progress=False,
        rtol=1e-2,
    )
    path = tmp_path / "d.h5"
    first = dictionary(tiny_sequence(), tiny_offsets(), cache=path, **kw)
    shared = dictionary(tiny_sequence(), tiny_offsets(), cache=True, **kw)
    assert shared.stats["computed"] == 1 and len(os.listdir(private_cache_dir)) == 1
    assert dictionary(tiny_sequence(), tiny_offsets(), cache=True, **kw).stats["resumed"] == 1
    monkeypatch.setattr(accuracy, "SOLVER_GENERATION", "another solver")
    with pytest.raises(ValueError, match="solver.generation"):
        dictionary(tiny_sequence(), tiny_offsets(), cache=path, **kw)
    again = dictionary(tiny_sequence(), tiny_offsets(), cache=True, **kw)
    assert again.stats["computed"] == 1 and len(os.listdir(private_cache_dir)) == 2
    np.testing.assert_array_equal(first.phi, shared.phi)
