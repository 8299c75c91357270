"""The MDF v2.1.0 table as data: every group and dataset, its type, shape and status.

This module is the single source of truth for the writer (what to emit, with which
dtype), the validator (what to check) and the reader (what must exist). It imports
neither h5py nor the data model.

Shapes are h5py (row-major) shapes written with the MDF size variables:

====  =====================================================================
A     tracers / injections
B     coefficients kept per row after a sparsity transform
C     receive channels
D     drive-field channels
E     background frames
F     frequencies per drive channel
J     periods per frame (patches)
K     stored frequencies (``V//2 + 1`` without frequency selection)
N     stored frames (``O + E``; ``B + E`` for sparsity-transformed files)
O     foreground frames (positions)
P     reconstruction voxels, Q reconstruction frames, S reconstruction channels
V     samples per drive-field cycle
Y     sub-intervals of a period (gradient / offsetField)
====  =====================================================================

A shape of ``()`` is an HDF5 *scalar* dataspace (the spec's "Dim 1"); ``None`` means
the shape depends on processing flags (``/measurement/data``, see ``docs/mdf-reading.md``).

Status values
-------------
``"required"``
    Mandatory whenever its group is present.
``"optional"``
    May be absent.
``"conditional"``
    Mandatory iff the flag named in ``condition`` is 1.
``"custom"``
    Not part of MDF; written by mdf_neel under an ``_`` name.

``practical=True`` marks spec-optional datasets that MPIFiles/MPIReco need in
practice (``/calibration/method``, ``size``, ``fieldOfView``, ``fieldOfViewCenter``,
``snr``); our writer always emits them and the validator requires them in calibration
files.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = [
    "Field",
    "Group",
    "FIELDS",
    "GROUPS",
    "FLAGS",
    "MDF_VERSION",
    "UUID_PATTERN",
    "TIME_PATTERN",
    "WAVEFORMS",
    "ORDERS",
    "SPARSITY_TRANSFORMS",
    "CALIBRATION_METHODS",
    "FILE_SUFFIXES",
    "FOV_UNIT",
    "EASY_AXIS_ANGLE",
    "EASY_AXIS_CONVENTION",
    "EASY_AXIS_CONVENTION_TEXT",
    "EASY_AXIS_POLAR_ANGLE",
    "EASY_AXIS_CONVENTION_TEXT_3D",
    "SNR_METHOD",
    "NOISE_ESTIMATE",
    "NOISE_ESTIMATE_METHOD",
    "PROVENANCE",
    "MANUAL_PREFACTORS",
    "fields_in",
    "is_spec_path",
]

MDF_VERSION = "2.1.0"
FILE_SUFFIXES = (".mdf", ".h5", ".hdf")

#: Canonical RFC 4122 text form, lowercase.
UUID_PATTERN = r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$"
#: MDF time: UTC, no zone suffix, at most millisecond resolution (Julia ``DateTime``).
TIME_PATTERN = r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,3})?$"

WAVEFORMS = ("sine", "triangle", "custom")
ORDERS = ("xyz", "xzy", "yxz", "yzx", "zyx", "zxy")
#: Transforms the reference stack (MPIFiles / LinearOperatorCollection) can invert.
SPARSITY_TRANSFORMS = ("DCT-II", "DCT-IV")
#: Calibration methods named by the spec (free text is allowed).
CALIBRATION_METHODS = ("robot", "hybrid", "simulation")
#: MPIFiles' per-bin noise estimate (not in the spec, no leading "_"; read by ``noiseEstimate``).
NOISE_ESTIMATE = "/custom/noiseEstimate"


@dataclass(frozen=True)
class Field:
    """One MDF dataset.

    Attributes
    ----------
    path : str
        Absolute HDF5 path, e.g. ``"/acquisition/drivefield/divider"``.
    dtype : str
        ``"string"``, ``"int8"``, ``"int64"``, ``"float64"``, ``"complex"`` (the
        ``{r, i}`` compound), ``"integer"`` (any integer width) or ``"number"``
        (integer, float or complex compound).
    shape : tuple of str or None
        Size-variable names (``()`` scalar; digits are literal lengths such as
        ``"3"``); ``None`` when the shape depends on flags.
    status : str
        ``"required"``, ``"optional"``, ``"conditional"`` or ``"custom"``.
    condition : str or None
        For conditional fields: the flag dataset that makes it mandatory.
    unit : str
        SI unit (fields: tesla = µ0·H).
    practical : bool
        Spec-optional but needed by MPIFiles/MPIReco for calibration files.
    description : str
    """

    path: str
    dtype: str
    shape: tuple | None
    status: str = "required"
    condition: str | None = None
    unit: str = ""
    practical: bool = False
    description: str = ""

    @property
    def group(self) -> str:
        """Parent group path (``"/"`` for root datasets)."""
        head = self.path.rsplit("/", 1)[0]
        return head or "/"

    @property
    def name(self) -> str:
        """Dataset name within its group."""
        return self.path.rsplit("/", 1)[1]

    @property
    def is_scalar(self) -> bool:
        """True for the spec's "Dim 1" (HDF5 scalar dataspace)."""
        return self.shape == ()


@dataclass(frozen=True)
class Group:
    """One MDF group; ``status`` is ``"required"``, ``"optional"`` or ``"calibration"``
    (mandatory in calibration files, i.e. whenever ``/calibration`` exists)."""

    path: str
    status: str
    description: str = ""


GROUPS = {
    g.path: g
    for g in (
        Group("/", "required", "file identity"),
        Group("/study", "required", "study the experiment belongs to"),
        Group("/experiment", "required", "the experiment"),
        Group("/tracer", "calibration", "tracer(s) in the scanner; mandatory when material was present"),
        Group("/scanner", "required", "the scanner"),
        Group("/acquisition", "required", "acquisition parameters"),
        Group("/acquisition/drivefield", "required", "drive field"),
        Group("/acquisition/receiver", "required", "receive chain"),
        Group("/measurement", "optional", "the measured data (the system matrix in calibration files)"),
        Group("/calibration", "optional", "calibration metadata (method, grid, SNR)"),
        Group("/reconstruction", "optional", "reconstructed images"),
        Group("/custom", "optional", "MPIFiles' non-standard data (noiseEstimate, auxiliaryData)"),
    )
}

_M = "/measurement/"

#: The eight processing flags (scalar int8, 0/1), all treated as mandatory.
FLAGS = tuple(
    _M + n
    for n in (
        "isBackgroundCorrected",
        "isFastFrameAxis",
        "isFourierTransformed",
        "isFramePermutation",
        "isFrequencySelection",
        "isSparsityTransformed",
        "isSpectralLeakageCorrected",
        "isTransferFunctionCorrected",
    )
)

_F = Field
_FIELD_LIST = [
    # / ------------------------------------------------------------------------------
    _F("/time", "string", (), description="file creation time, UTC, yyyy-mm-ddThh:mm:ss.mmm"),
    _F("/uuid", "string", (), description="UUID of this file"),
    _F("/version", "string", (), description='MDF version, "2.1.0"'),
    # /study ------------------------------------------------------------------------
    _F("/study/description", "string", ()),
    _F("/study/name", "string", ()),
    _F("/study/number", "int64", ()),
    _F("/study/time", "string", (), "optional"),
    _F("/study/uuid", "string", ()),
    # /experiment -------------------------------------------------------------------
    _F("/experiment/description", "string", ()),
    _F("/experiment/isSimulation", "int8", (), description="1 for simulated data"),
    _F("/experiment/name", "string", ()),
    _F("/experiment/number", "int64", ()),
    _F("/experiment/subject", "string", ()),
    _F("/experiment/uuid", "string", ()),
    # /tracer -------------------------------------------------------------------------
    _F("/tracer/batch", "string", ("A",)),
    _F("/tracer/concentration", "float64", ("A",), unit="mol/L"),
    _F("/tracer/injectionTime", "string", ("A",), "optional"),
    _F("/tracer/name", "string", ("A",)),
    _F("/tracer/solute", "string", ("A",)),
    _F("/tracer/vendor", "string", ("A",)),
    _F("/tracer/volume", "float64", ("A",), unit="L"),
    # /scanner ------------------------------------------------------------------------
    _F("/scanner/boreSize", "float64", (), "optional", unit="m"),
    _F("/scanner/facility", "string", ()),
    _F("/scanner/manufacturer", "string", ()),
    _F("/scanner/name", "string", ()),
    _F("/scanner/operator", "string", ()),
    _F("/scanner/topology", "string", (), description="FFP, FFL, MPS, ..."),
    # /acquisition --------------------------------------------------------------------
    _F("/acquisition/gradient", "float64", ("J", "Y", "3", "3"), "optional", unit="T/m"),
    _F("/acquisition/numAverages", "int64", ()),
    _F("/acquisition/numFrames", "int64", (), description="N"),
    _F("/acquisition/numPeriodsPerFrame", "int64", (), description="J"),
    _F("/acquisition/offsetField", "float64", ("J", "Y", "3"), "optional", unit="T"),
    _F("/acquisition/startTime", "string", ()),
    # /acquisition/drivefield ---------------------------------------------------------
    _F("/acquisition/drivefield/baseFrequency", "float64", (), unit="Hz"),
    _F("/acquisition/drivefield/cycle", "float64", (), unit="s"),
    _F("/acquisition/drivefield/divider", "int64", ("D", "F")),
    _F("/acquisition/drivefield/numChannels", "int64", (), description="D"),
    _F("/acquisition/drivefield/phase", "float64", ("J", "D", "F"), unit="rad"),
    _F("/acquisition/drivefield/strength", "float64", ("J", "D", "F"), unit="T"),
    _F("/acquisition/drivefield/waveform", "string", ("D", "F")),
    # /acquisition/receiver -----------------------------------------------------------
    _F("/acquisition/receiver/bandwidth", "float64", (), unit="Hz"),
    _F("/acquisition/receiver/dataConversionFactor", "float64", ("C", "2"), "optional"),
    _F("/acquisition/receiver/inductionFactor", "float64", ("C",), "optional"),
    _F("/acquisition/receiver/numChannels", "int64", (), description="C"),
    _F("/acquisition/receiver/numSamplingPoints", "int64", (), description="V"),
    _F("/acquisition/receiver/transferFunction", "complex", ("C", "K"), "optional"),
    _F("/acquisition/receiver/unit", "string", ()),
    # /measurement --------------------------------------------------------------------
    _F(_M + "data", "number", None, description="(J,C,K,N) if isFastFrameAxis else (N,J,C,K)"),
    _F(_M + "framePermutation", "int64", ("N",), "conditional", _M + "isFramePermutation"),
    _F(_M + "frequencySelection", "int64", ("K",), "conditional", _M + "isFrequencySelection"),
    *(_F(flag, "int8", ()) for flag in FLAGS),
    _F(_M + "isBackgroundFrame", "int8", ("N",)),
    _F(_M + "sparsityTransformation", "string", (), "conditional", _M + "isSparsityTransformed"),
    _F(_M + "subsamplingIndices", "integer", ("J", "C", "K", "B"), "conditional", _M + "isSparsityTransformed"),
    # /calibration --------------------------------------------------------------------
    _F("/calibration/deltaSampleSize", "float64", ("3",), "optional", unit="m"),
    _F("/calibration/fieldOfView", "float64", ("3",), "optional", unit="m or T", practical=True),
    _F("/calibration/fieldOfViewCenter", "float64", ("3",), "optional", unit="m or T", practical=True),
    _F("/calibration/method", "string", (), "optional", practical=True, description="robot, hybrid, simulation"),
    _F("/calibration/offsetFields", "float64", ("O", "3"), "optional", unit="T"),
    _F("/calibration/order", "string", (), "optional"),
    _F("/calibration/positions", "float64", ("O", "3"), "optional", unit="m"),
    _F("/calibration/size", "int64", ("3",), "optional", practical=True),
    _F("/calibration/snr", "float64", ("J", "C", "K"), "optional", practical=True),
    # /reconstruction -----------------------------------------------------------------
    _F("/reconstruction/data", "number", ("Q", "P", "S")),
    _F("/reconstruction/fieldOfView", "float64", ("3",), "optional", unit="m"),
    _F("/reconstruction/fieldOfViewCenter", "float64", ("3",), "optional", unit="m"),
    _F("/reconstruction/isOverscanRegion", "int8", ("P",), "optional"),
    _F("/reconstruction/order", "string", (), "optional"),
    _F("/reconstruction/positions", "float64", ("P", "3"), "optional", unit="m"),
    _F("/reconstruction/size", "int64", ("3",), "optional"),
    # /custom: not in the spec; MPIFiles reads /custom/noiseEstimate (noiseEstimate(f)) and
    # indexes it with (global frequency k, channel c), i.e. Julia (K_full, C) = h5py (C, K_full)
    _F(
        NOISE_ESTIMATE,
        "float64",
        ("C", "K_full"),
        "optional",
        description="std of the background frames per channel and rfft bin (NaN where no data)",
    ),
]

# --- mdf_neel's custom fields (MDF allows anything under an "_" name) ------------------
FOV_UNIT = "/calibration/_fieldOfViewUnit"
EASY_AXIS_ANGLE = "/calibration/_easyAxisAngle"
EASY_AXIS_CONVENTION = "/calibration/_easyAxisConvention"
EASY_AXIS_CONVENTION_TEXT = "n(theta) = (cos theta, sin theta, 0), theta in degrees from the x axis"
#: polar angle of the easy axis from +z [deg]; written only for axes out of the xy-plane
EASY_AXIS_POLAR_ANGLE = "/calibration/_easyAxisPolarAngle"
EASY_AXIS_CONVENTION_TEXT_3D = (
    "n(theta, polar) = (sin polar cos theta, sin polar sin theta, cos polar), theta in degrees from the "
    "x axis towards y, polar in degrees from the z axis (_easyAxisPolarAngle; 90 when absent: the xy-plane)"
)
SNR_METHOD = "/calibration/_snrMethod"
NOISE_ESTIMATE_METHOD = "/calibration/_noiseEstimateMethod"
PROVENANCE = "/_provenance"
#: MPIFiles' hand-set mixing prefactors (int64, shape (P,)), read and written as found.
MANUAL_PREFACTORS = "/measurement/_manualPrefactors"

_FIELD_LIST += [
    _F(FOV_UNIT, "string", (), "custom", description='"T" (offset-field grid, µ0·H) or "m" (positions)'),
    _F(EASY_AXIS_ANGLE, "float64", (), "custom", unit="deg", description="easy-axis angle theta"),
    _F(EASY_AXIS_POLAR_ANGLE, "float64", (), "custom", unit="deg", description="easy-axis polar angle from +z"),
    _F(EASY_AXIS_CONVENTION, "string", (), "custom", description="meaning of the easy-axis angle"),
    _F(SNR_METHOD, "string", (), "custom", description="how /calibration/snr was obtained"),
    _F(NOISE_ESTIMATE_METHOD, "string", (), "custom", description="how /custom/noiseEstimate was obtained"),
]

#: Every known dataset, keyed by absolute path.
FIELDS = {f.path: f for f in _FIELD_LIST}


def fields_in(group: str) -> list:
    """The :class:`Field` entries directly inside ``group`` (e.g. ``"/study"``)."""
    group = group.rstrip("/") or "/"
    return [f for f in FIELDS.values() if f.group == group]


def is_spec_path(path: str) -> bool:
    """True if ``path`` (absolute) names an MDF v2.1 group or dataset (not a custom one)."""
    path = "/" + path.strip("/")
    if path in GROUPS:
        return True
    f = FIELDS.get(path)
    return f is not None and f.status != "custom"
