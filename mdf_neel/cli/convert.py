"""``mdf-neel convert IN OUT [options]``: MDF v1 → v2.1, decompress, select, correct.

Without options a v2 file is copied object by object (every dataset unchanged).
Channels on the command line are 1-based like MPIFiles' ``recChannels``.
"""

from __future__ import annotations


def _channels(text: str):
    try:
        values = [int(v) for v in text.replace(" ", "").split(",") if v]
    except ValueError:
        raise ValueError(f"--channels expects 1-based integers separated by commas, got {text!r}") from None
    if not values or min(values) < 1:
        raise ValueError(f"--channels expects 1-based channel numbers (>= 1), got {text!r}")
    return [v - 1 for v in values]


def register(subparsers) -> None:
    """Add the ``convert`` subcommand."""
    p = subparsers.add_parser(
        "convert",
        help="convert MDF v1 → v2.1, decompress, select frequencies, background-correct",
        description=(
            "Convert an MDF file to MDF v2.1. Without options a v2 file is copied unchanged "
            "(a sparsity-transformed one is decompressed). Frequency selection follows MPIFiles' "
            "filterFrequencies: inclusive bounds compared exactly with MPIFiles' float64 bin "
            "frequencies k*(2*bandwidth/V) (no tolerance: a bound one rounding step above a bin drops "
            "it), SNR >= threshold, a frequency is kept if any selected channel passes. "
            "--expand-frequencies writes every rfft bin (zero rows, SNR 0) for readers that ignore "
            "MDF frequency selection."
        ),
    )
    p.add_argument("input", metavar="IN", help="input MDF file (v1 or v2)")
    p.add_argument("output", metavar="OUT", help="output file (.mdf, .h5, .hdf)")
    p.add_argument("--snr-threshold", type=float, metavar="X", help="keep frequencies with SNR >= X in any channel")
    p.add_argument(
        "--min-freq",
        type=float,
        metavar="HZ",
        help="keep bins whose MPIFiles frequency k*(2*bandwidth/V) in float64 is >= HZ (exact, applied if HZ > 0)",
    )
    p.add_argument(
        "--max-freq",
        type=float,
        metavar="HZ",
        help="keep bins whose MPIFiles frequency k*(2*bandwidth/V) in float64 is <= HZ (exact, applied if < bandwidth)",
    )
    p.add_argument("--max-mixing-order", type=int, metavar="N", help="keep Lissajous mixing orders <= N")
    p.add_argument("--channels", metavar="1,2", help="receive channels to keep, 1-based, comma separated")
    p.add_argument(
        "--background-correction",
        choices=("mean", "interpolate"),
        help="subtract the background frames (mean, or MPIFiles' linear interpolation)",
    )
    p.add_argument(
        "--no-snr-estimate", action="store_true", help="do not estimate a missing SNR from the background frames"
    )
    p.add_argument(
        "--recompress",
        type=float,
        metavar="FRACTION",
        help="store DCT coefficients, keeping this fraction (0-1] per row",
    )
    p.add_argument("--transform", choices=("DCT-IV", "DCT-II"), default="DCT-IV", help="transform for --recompress")
    p.add_argument(
        "--keep-compressed",
        action="store_true",
        help="copy a sparsity-transformed input as is (no decompression) when no option is given",
    )
    p.add_argument(
        "--expand-frequencies",
        action="store_true",
        help=(
            "write every rfft bin and no frequencySelection (rows not stored are zero, SNR 0, transfer "
            "function 1), for plain-h5py readers that ignore MDF frequency selection; not with --recompress"
        ),
    )
    p.add_argument("--no-overwrite", action="store_true", help="fail if OUT exists")
    p.set_defaults(func=run)


def run(args) -> int:
    """Run the conversion; print a one-line summary; return 0."""
    import sys

    from ..errors import MDFError
    from ..mdf.conversion import convert

    try:
        channels = _channels(args.channels) if args.channels else None
        out = convert(
            args.input,
            args.output,
            decompress=not args.keep_compressed,
            snr_threshold=args.snr_threshold,
            min_frequency_Hz=args.min_freq,
            max_frequency_Hz=args.max_freq,
            max_mixing_order=args.max_mixing_order,
            receive_channels=channels,
            background_correction=args.background_correction,
            estimate_snr_from_background=not args.no_snr_estimate,
            recompress=args.recompress,
            transform=args.transform,
            expand_frequencies=args.expand_frequencies,
            overwrite=not args.no_overwrite,
        )
    except MDFError:
        raise
    except (ValueError, FileExistsError) as exc:
        print(f"mdf-neel convert: error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {out}")
    return 0
