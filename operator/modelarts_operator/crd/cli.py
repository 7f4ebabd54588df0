"""``modelarts-operator crds``: print, write or check the generated CRD manifests."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any


def add_parser(subparsers: Any) -> None:
    """Register the ``crds`` subcommand."""
    parser = subparsers.add_parser(
        "crds",
        help="print, write or check the CRD manifests generated from the pydantic models",
        description=(
            "Without options, print all CRDs to stdout. --write updates crds/, "
            "helm/modelarts-operator/templates/crds/, docs/crd-reference.md, the chart's "
            "templates/_kinds.tpl and the generated tables of argocd/health.lua (and the "
            "chart's copy); --check exits 1 naming stale files."
        ),
    )
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--write", action="store_true", help="write the files under --root")
    mode.add_argument("--check", action="store_true", help="fail if the files are stale")
    parser.add_argument(
        "--root",
        type=Path,
        default=None,
        help="project root (default: the nearest parent with pyproject.toml)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from .generate import find_root, render_all, stale_files, write_crds

    if not (args.write or args.check):
        sys.stdout.write(render_all())
        return 0
    root: Path = args.root if args.root is not None else find_root()
    if args.write:
        for path in write_crds(root):
            print(f"wrote {path}")
        return 0
    stale = stale_files(root)
    for path in stale:
        print(f"stale: {path} (run `modelarts-operator crds --write`)", file=sys.stderr)
    return 1 if stale else 0
