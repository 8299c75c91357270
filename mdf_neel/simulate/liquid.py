"""The carrier-liquid axis of a dictionary: hydrodynamic diameters or viscosities.

Tracers in a liquid turn as a whole against its drag (Brownian rotation,
:mod:`mdf_neel.physics.brown`; with the moment also turning in the core, combined
Néel–Brown rotation, :mod:`mdf_neel.physics.neel_brown`): their dynamics depend on the
hydrodynamic diameter D_h and the viscosity η through τ_B = 3 η V_h / (kB T), and not on
the easy axis (nor, in Brownian rotation, on the anisotropy K). A fluid-tracer calibration is fitted over one of these two parameters the way
an immobilised one is fitted over K, so a dictionary of a liquid model may hold a
:class:`LiquidAxis` in the place of the anisotropy axis: element ``(i_d, i_l, i_a)`` is
the tracer of core diameter ``diameters_m[i_d]`` with the liquid parameter
``axis.values[i_l]``; the other liquid parameter and K stay fixed.

Which models have a carrier liquid is :data:`LIQUID_MODELS`, the one place to extend.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = ["LiquidAxis", "LIQUID_MODELS", "LIQUID_PARAMETERS"]

#: the models whose particles turn in a carrier liquid (they take a liquid axis)
LIQUID_MODELS = ("brown", "neel-brown")

#: liquid parameter (a keyword of mean_magnetization) -> (keyword of its axis, unit)
LIQUID_PARAMETERS = {
    "hydrodynamic_diameter_m": ("hydrodynamic_diameters_m", "m"),
    "viscosity_Pas": ("viscosities_Pas", "Pa s"),
}


@dataclass(frozen=True)
class LiquidAxis:
    """One liquid parameter varied along the second axis of a dictionary.

    Parameters
    ----------
    parameter : {"hydrodynamic_diameter_m", "viscosity_Pas"}
        The varied parameter, named as :func:`mdf_neel.physics.mean_magnetization`
        takes it.
    values : sequence of float, shape (n_L,)
        Its values: hydrodynamic diameters D_h [m] or viscosities η [Pa s]; positive,
        finite, no value twice. Stored as a tuple of floats.

    Examples
    --------
    >>> axis = LiquidAxis.from_keywords(viscosities_Pas=[1e-3, 2e-3, 4e-3])
    >>> axis.parameter, axis.keyword, axis.unit, len(axis)
    ('viscosity_Pas', 'viscosities_Pas', 'Pa s', 3)
    >>> axis.settings()
    {'parameter': 'viscosity_Pas', 'values': [0.001, 0.002, 0.004]}
    >>> LiquidAxis.from_keywords() is None
    True
    """

    parameter: str
    values: tuple

    def __post_init__(self):
        if self.parameter not in LIQUID_PARAMETERS:
            raise ValueError(f"LiquidAxis.parameter must be one of {tuple(LIQUID_PARAMETERS)}, got {self.parameter!r}")
        name = self.keyword
        try:
            arr = np.atleast_1d(np.asarray(self.values, dtype=np.float64))
        except (TypeError, ValueError):
            raise ValueError(f"{name} must be a 1-D sequence of numbers, got {self.values!r}") from None
        if arr.ndim != 1 or arr.size == 0 or not np.all(np.isfinite(arr)) or np.any(arr <= 0):
            unit = self.unit
            raise ValueError(
                f"{name} must be a non-empty 1-D sequence of positive values in {unit}, got {self.values!r}"
            )
        if np.unique(arr).size != arr.size:
            raise ValueError(f"{name} holds a value twice: {arr.tolist()}")
        if self.parameter == "hydrodynamic_diameter_m" and np.any(arr > 1e-5):
            raise ValueError(f"hydrodynamic_diameters_m must be in metres (e.g. 30e-9), got {arr.tolist()}")
        object.__setattr__(self, "values", tuple(float(v) for v in arr))

    @property
    def keyword(self) -> str:
        """The keyword that gives this axis (``"hydrodynamic_diameters_m"`` or ``"viscosities_Pas"``)."""
        return LIQUID_PARAMETERS[self.parameter][0]

    @property
    def unit(self) -> str:
        """Unit of the values (``"m"`` or ``"Pa s"``)."""
        return LIQUID_PARAMETERS[self.parameter][1]

    def __len__(self) -> int:
        return len(self.values)

    def settings(self) -> dict:
        """JSON-serialisable record (part of dictionary settings and fingerprints)."""
        return {"parameter": self.parameter, "values": list(self.values)}

    @classmethod
    def from_settings(cls, record) -> "LiquidAxis | None":
        """The axis recorded by :meth:`settings` (``None`` for ``None``)."""
        if record is None:
            return None
        return cls(record["parameter"], tuple(record["values"]))

    @classmethod
    def from_keywords(cls, *, hydrodynamic_diameters_m=None, viscosities_Pas=None) -> "LiquidAxis | None":
        """The axis given by one of the two keywords (``None`` when neither is given).

        Raises
        ------
        TypeError
            When both are given (a dictionary has one liquid axis).
        """
        if hydrodynamic_diameters_m is not None and viscosities_Pas is not None:
            raise TypeError(
                "give hydrodynamic_diameters_m or viscosities_Pas, not both: a dictionary has one liquid axis"
            )
        if hydrodynamic_diameters_m is not None:
            return cls("hydrodynamic_diameter_m", hydrodynamic_diameters_m)
        if viscosities_Pas is not None:
            return cls("viscosity_Pas", viscosities_Pas)
        return None

    def check(self, model: str, diameters_m) -> None:
        """Refuse a model without a carrier liquid, and shells smaller than cores.

        Raises
        ------
        ValueError
            For ``model`` not in :data:`LIQUID_MODELS`, or a hydrodynamic diameter below
            one of the core ``diameters_m`` [m] (the shell encloses the core).
        """
        if model not in LIQUID_MODELS:
            raise ValueError(f"{self.keyword} needs a model with a carrier liquid {LIQUID_MODELS}, got model={model!r}")
        if self.parameter == "hydrodynamic_diameter_m":
            d_max = float(np.max(diameters_m))
            small = [v for v in self.values if v < d_max * (1.0 - 1e-12)]
            if small:
                raise ValueError(
                    f"hydrodynamic_diameters_m {small} are below the largest core diameter {d_max:g} m; "
                    "every hydrodynamic diameter must enclose every core of the dictionary"
                )
