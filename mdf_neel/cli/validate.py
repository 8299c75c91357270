"""``mdf-neel validate FILE...``: conformance problems of MDF files.

Prints ``FILE: OK`` or one line per problem (``FILE: <dataset>: <problem>``);
the exit status is 0 when every file conforms, 1 when any file has a problem.
"""

from __future__ import annotations


def register(subparsers) -> None:
    """Add the ``validate`` subcommand."""
    p = subparsers.add_parser(
        "validate",
        help="check MDF v2.1 conformance (exit 1 on problems)",
        description="Check files against MDF v2.1 and what MPIFiles/MPIReco need; one line per problem.",
    )
    p.add_argument("files", nargs="+", metavar="FILE", help="MDF files (.mdf, .h5, .hdf)")
    p.add_argument("--no-advisory", action="store_true", help="report only errors, not advisory findings")
    p.add_argument("-q", "--quiet", action="store_true", help="print nothing for conforming files")
    p.set_defaults(func=run)


def run(args) -> int:
    """Validate every file; return 1 if any has a problem, else 0."""
    from ..mdf.validation import validate

    status = 0
    for path in args.files:
        problems = validate(path, advisory=not args.no_advisory)
        if problems:
            status = 1
            for line in problems:
                print(f"{path}: {line}")
        elif not args.quiet:
            print(f"{path}: OK")
    return status
