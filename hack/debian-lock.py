#!/usr/bin/env python3
"""Writes tools/image/debian.lock: the Debian packages of the operator image's root filesystem,
each with its version and the SHA-256 of its .deb, as the host's apt indexes (Debian 12,
`apt-get update` first) name them. The Dockerfile downloads exactly these and refuses a file
whose hash differs. Run through `hack/build-image.sh lock` when a package is superseded (a
security update: the Dockerfile's download then fails and says so).

What goes in: Python 3.11 (interpreter and standard library) with every library they are
linked against, following Depends and Pre-Depends (the first alternative), minus the packages
only dpkg's maintainer scripts need (the image runs none: no shell, no dpkg, no perl); plus
libgcc-s1 (the compiled wheels link it), base-files (/etc/os-release, which scanners read)
and netbase (/etc/services, /etc/protocols for the socket module).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

LOCK = Path(__file__).resolve().parents[1] / "tools" / "image" / "debian.lock"
ROOTS = ["python3.11-minimal", "libpython3.11-stdlib", "libgcc-s1", "base-files", "netbase"]
# Needed by maintainer scripts and package management only, which the image never runs.
LEFT_OUT = {
    "dpkg", "install-info", "tar", "debconf", "perl-base", "perl", "perl-modules-5.36",
    "libperl5.36", "mime-support", "mailcap", "readline-common", "libtirpc-common", "awk",
}  # fmt: skip


def show(package: str) -> dict[str, str] | None:
    """The candidate version's fields, or None for a purely virtual package."""
    proc = subprocess.run(
        ["apt-cache", "show", "--no-all-versions", package],
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    if proc.returncode != 0 or not proc.stdout.strip():
        return None
    fields: dict[str, str] = {}
    key = ""
    for line in proc.stdout.split("\n\n")[0].splitlines():
        if line.startswith(" ") and key:
            fields[key] += "\n" + line
        elif ":" in line:
            key, _, value = line.partition(":")
            fields[key] = value.strip()
    return fields


def dependencies(fields: dict[str, str]) -> list[str]:
    """Package names of Depends and Pre-Depends, the first existing alternative of each."""
    names = []
    for field in ("Pre-Depends", "Depends"):
        for clause in filter(None, (c.strip() for c in fields.get(field, "").split(","))):
            alternatives = [a.split()[0].split(":")[0] for a in clause.split("|")]
            if LEFT_OUT.intersection(alternatives):
                continue
            chosen = next((a for a in alternatives if show(a) is not None), None)
            if chosen is None:
                raise SystemExit(f"{fields['Package']}: nothing provides {clause!r}")
            names.append(chosen)
    return names


def resolve() -> dict[str, dict[str, str]]:
    found: dict[str, dict[str, str]] = {}
    todo = list(ROOTS)
    while todo:
        name = todo.pop()
        if name in found or name in LEFT_OUT:
            continue
        fields = show(name)
        if fields is None:
            raise SystemExit(f"{name}: not in the apt indexes (run apt-get update)")
        found[name] = fields
        todo.extend(dependencies(fields))
    return found


def main() -> int:
    packages = resolve()
    lines = [
        "# Debian packages of the operator image's root filesystem: package, version,",
        "# architecture, SHA-256 of the .deb. Written by hack/debian-lock.py (`hack/build-image.sh",
        "# lock`); the Dockerfile installs exactly these and refuses any other file.",
    ]
    for name in sorted(packages):
        f = packages[name]
        lines.append(f"{name} {f['Version']} {f['Architecture']} {f['SHA256']}")
    LOCK.parent.mkdir(parents=True, exist_ok=True)
    LOCK.write_text("\n".join(lines) + "\n")
    print(f"wrote {LOCK}: {len(packages)} packages")
    return 0


if __name__ == "__main__":
    sys.exit(main())
