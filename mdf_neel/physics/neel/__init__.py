"""The Néel Fokker–Planck solver, one module per job (see ``docs/neel-numerics.md``).

Shared numerics, underneath every method:

=====================  ==============================================================
``sh_operators``       Galerkin operators in the real spherical-harmonic basis
``discretisation``     the operator A(B) in band order, |m| <= M, stationary states
``frame``              easy-axis rotations; fields in one plane through the axis
``resolution``         the resolution rule (degree N for a target rtol)
``lapack``, ``band``   LAPACK bridge; banded assembly, LU and solve (numba)
``stepping``           Rodas5P tableau, field spline evaluation, dense output (numba)
``integration``        field spline, step tolerance, step store, warm-up
``shooting``           Newton–Krylov shooting of periodic steady states
=====================  ==============================================================

Methods, each a driver plus its kernels:

=====================  ==============================================================
``full``               full model: batch integration and periodic steady states
``full_kernels``       its adaptive/replayed Rodas5P trajectory kernels
``truncation``         azimuthal-truncation policy and its verification
``reduced``            reduced basis (POD + greedy, verified)
``reduced_kernels``    its dense Rodas5P kernels
``slow_mode``          slow-mode model (tables over the field plane, verified)
``slow_mode_kernels``  its kernels and the named table of its columns
``symmetry``           exact symmetries between steady-state batch members
``dispatch``           method choice and mapping back to the batch (``solve_batch``)
=====================  ==============================================================

The public entry points are :func:`mdf_neel.physics.mean_magnetization` and
:func:`mdf_neel.physics.solve_neel`; nothing here imports numba until a kernel module is
imported.
"""
