"""How much of the cloud's vocabulary each CRD can say: the SDK's request models walked field
by field and looked up in the generated CRD schemas.

Each kind (and form) lists the SDK request bodies of its create, update and tag calls and how
their paths map onto the CRD's spec: a CRD flattens the API's envelopes (``metadata``,
``spec``) and gives a few fields the operator's own name (``jobName`` for
``metadata.name``). A path maps by its longest listed prefix; the rest of it is camelCased.

Two measures: **paths** (every field of every body, at its place: what the test enforces,
less the committed exclusions) and **names** (the field names that occur at any depth, a
name counting once if any of its fields is expressible: the measure issue 23 used).

``python hack/vocabulary/coverage.py [crd-dir]`` prints both per kind.
"""

from __future__ import annotations

import sys
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from vocabulary import sdk
else:
    from . import sdk

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent.parent


@dataclass(frozen=True)
class Body:
    """One request body of a kind: the SDK class and where its paths land in the spec."""

    root: str
    mapping: Mapping[str, str]  # SDK wire path prefix ("a.b") -> CRD spec path ("" = spec)
    default: str = ""  # CRD prefix for paths no entry maps (e.g. "v2")
    # Wire paths the operator's client sends itself on every call, with the SDK's only value
    # (the pool and network APIs' envelope: apiVersion, kind). Excluded from the models (a
    # spec cannot say anything else), but the body the cloud gets has them: covered.
    sent: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Kind:
    name: str
    crd: str  # the CRD file name in crds/
    family: str
    bodies: tuple[Body, ...]
    v1: str | None = None  # the kind's entry in reference_v1.yaml (its 2020 forms)


TAGS = Body("CreateTmsTagsRequest", {})
# A pool's billing annotations (os.modelarts/<wire>) are ResourcePool spec.billing.<field>.
POOL_BILLING = {
    f"metadata.annotations.os.modelarts/{wire}": f"billing.{field}"
    for wire, field in (
        ("billing.mode", "billingMode"),
        ("period.num", "periodNum"),
        ("period.type", "periodType"),
        ("auto.renew", "autoRenew"),
        ("auto.pay", "autoPay"),
        ("promotion.info", "promotionInfo"),
        ("service.console.url", "serviceConsoleUrl"),
        ("order.id", "orderId"),
    )
}

KINDS: tuple[Kind, ...] = (
    Kind(
        "TrainingJob",
        "trainingjobs.modelarts.huaweicloud.com.yaml",
        "training",
        (
            Body(
                "Job",
                {
                    "kind": "jobKind",
                    "metadata": "",
                    "metadata.name": "jobName",
                    "metadata.description": "jobDesc",
                    "metadata.workspace_id": "workspaceId",
                    "metadata.annotations": "annotations",
                    "metadata.training_experiment_reference": "experiment",
                    "spec": "",
                },
            ),
            Body(
                "JobUpdateRequestBody",
                {
                    "description": "jobDesc",
                    "spec": "",
                    "metadata": "",
                    "metadata.annotation": "annotations",
                },
            ),
            TAGS,
        ),
        v1="TrainingJob",
    ),
    Kind(
        "Service",
        "services.modelarts.huaweicloud.com.yaml",
        "services",
        (
            Body(
                "ServiceCreateRequest",
                {
                    "name": "serviceName",
                    "description": "description",
                    "workspace_id": "workspaceId",
                    "tags": "tags",
                },
                default="v2",
            ),
            Body(
                "ServiceUpdateRequest",
                {
                    "name": "serviceName",
                    "description": "description",
                    "workspace_id": "workspaceId",
                    "tags": "tags",
                },
                default="v2",
            ),
        ),
        v1="Service",
    ),
    Kind(
        "Notebook",
        "notebooks.modelarts.huaweicloud.com.yaml",
        "notebooks",
        (
            Body(
                "NotebookCreateRequest",
                {
                    "image_id": "image.id",
                    "endpoints": "ssh",
                    "endpoints.service": "ssh",
                    "lease.duration": "lease.durationMinutes",
                    "duration": "lease.durationMinutes",
                },
            ),
            Body(
                "NotebookUpdateRequest",
                {
                    "image_id": "image.id",
                    "endpoints": "ssh",
                    "endpoints.service": "ssh",
                    "storage_new_size": "volume.capacity",
                    "dew_secret_name": "volume.dewSecretName",
                },
            ),
            TAGS,
        ),
    ),
    Kind(
        "Workspace",
        "workspaces.modelarts.huaweicloud.com.yaml",
        "workspaces",
        (
            Body("CreateWorkspaceReq", {}),
            Body("UpdateWorkspaceReq", {}),
            Body("UpdateWorkspaceQuotasReq", {}),
        ),
    ),
    Kind(
        "Algorithm",
        "algorithms.modelarts.huaweicloud.com.yaml",
        "algorithms",
        # create_algorithm and change_algorithm take the same body.
        (Body("Algorithm", {"metadata": "", "metadata.workspace_id": "workspaceId"}),),
    ),
    Kind(
        "Network",
        "networks.modelarts.huaweicloud.com.yaml",
        "networks",
        (
            Body(
                "NetworkCreationRequest",
                {
                    "metadata": "",
                    "metadata.labels": "",
                    "metadata.labels.os.modelarts/name": "name",
                    "metadata.labels.os.modelarts/workspace.id": "workspaceId",
                    "spec": "",
                },
                sent=frozenset({"apiVersion", "kind"}),  # api/pools.py NETWORK_ENVELOPE
            ),
            Body(
                "NetworkUpdateRequest",
                {
                    "metadata": "",
                    "metadata.annotations": "",
                    "metadata.annotations.os.modelarts/description": "description",
                    "spec": "",
                },
            ),
        ),
    ),
    Kind(
        "ResourcePool",
        "resourcepools.modelarts.huaweicloud.com.yaml",
        "pools",
        (
            Body(
                "CreatePoolRequestBody",
                {
                    "metadata": "",
                    "metadata.labels": "",
                    "metadata.labels.os.modelarts/name": "name",
                    "metadata.labels.os.modelarts/workspace.id": "workspaceId",
                    "metadata.labels.os.modelarts/node.prefix": "nodePrefix",
                    "metadata.annotations": "",
                    "metadata.annotations.os.modelarts/description": "description",
                    **POOL_BILLING,
                    "spec": "",
                },
                sent=frozenset({"apiVersion", "kind"}),  # api/pools.py POOL_ENVELOPE
            ),
            Body(
                "PoolUpdateRequest",
                {
                    "metadata": "",
                    "metadata.annotations": "",
                    "metadata.annotations.os.modelarts/description": "description",
                    "metadata.annotations.os.modelarts/order.id": "billing.orderId",
                    "spec": "",
                },
            ),
        ),
    ),
    Kind(
        "Model",
        "models.modelarts.huaweicloud.com.yaml",
        "dataarts",
        (Body("CreateModelInput", {}, default="llm"), Body("UpdateModelInput", {}, default="llm")),
        v1="Model",
    ),
)


def camel(name: str) -> str:
    head, *rest = name.split("_")
    return head + "".join(part[:1].upper() + part[1:] for part in rest)


def crd_path(body: Body, wire_path: tuple[str, ...]) -> tuple[str, ...]:
    """Where an SDK field lands in the spec (a tuple of CRD property names)."""
    for cut in range(len(wire_path), 0, -1):
        prefix = ".".join(wire_path[:cut])
        if prefix in body.mapping:
            head = tuple(p for p in body.mapping[prefix].split(".") if p)
            return head + tuple(camel(p) for p in wire_path[cut:])
    head = tuple(p for p in body.default.split(".") if p)
    return head + tuple(camel(p) for p in wire_path)


def spec_schema(crd_file: Path) -> dict[str, Any]:
    doc = yaml.safe_load(crd_file.read_text(encoding="utf-8"))
    schema = doc["spec"]["versions"][0]["schema"]["openAPIV3Schema"]
    return dict(schema["properties"]["spec"])


def has_path(schema: Mapping[str, Any], path: tuple[str, ...]) -> bool:
    """Whether the spec schema has a property at ``path`` (lists and maps are looked through:
    an SDK field of a list's items is a property of the CRD list's items)."""
    node: Mapping[str, Any] = schema
    for part in path:
        while node.get("type") == "array":
            node = node["items"]
        properties = node.get("properties") or {}
        if part not in properties:
            return False
        node = properties[part]
    return True


@dataclass
class Coverage:
    kind: str
    paths: int
    covered_paths: int
    names: int
    covered_names: int
    missing: list[str]  # SDK paths the CRD lacks ("Root.a.b")
    excluded: list[str]  # SDK paths left out on purpose

    @property
    def name_share(self) -> float:
        return self.covered_names / self.names if self.names else 1.0

    @property
    def path_share(self) -> float:
        return self.covered_paths / self.paths if self.paths else 1.0


def _reference_v1() -> dict[str, Any]:
    return dict(yaml.safe_load((HERE / "reference_v1.yaml").read_text(encoding="utf-8")) or {})


def _v1_paths(tree: Mapping[str, Any] | None, prefix: tuple[str, ...] = ()) -> Any:
    for name, below in (tree or {}).items():
        yield (*prefix, name)
        yield from _v1_paths(below, (*prefix, name))


def fields_of(
    kind: Kind, excluded: frozenset[str]
) -> list[tuple[str, Body, tuple[str, ...], bool]]:
    """Every request field of the kind: (body name, body, wire path, excluded?). Fields below
    an excluded one are left out; the SDK's bodies first, then the 2020 reference's."""
    out: list[tuple[str, Body, tuple[str, ...], bool]] = []
    family = sdk.FAMILY[kind.family]
    for body in kind.bodies:
        cut: list[tuple[str, ...]] = []
        for path, field in sdk.paths(family, body.root):
            if any(path[: len(p)] == p for p in cut):
                continue
            if field.key in excluded:
                cut.append(path)
            out.append((body.root, body, path, field.key in excluded))
    for entry in _reference_v1().get(kind.v1 or "", []):
        body = Body(entry["body"], dict(entry.get("mapping") or {}))
        skipped = set(entry.get("excluded") or {})
        for path in _v1_paths(entry["fields"]):
            out.append((f"v1 {entry['body']}", body, path, ".".join(path) in skipped))
    return out


def measure(kind: Kind, crd_dir: Path, excluded: frozenset[str]) -> Coverage:
    schema = spec_schema(crd_dir / kind.crd)
    names: dict[str, bool] = {}
    covered = 0
    missing: list[str] = []
    skipped: list[str] = []
    fields = fields_of(kind, excluded)
    for origin, body, path, left_out in fields:
        name = path[-1]
        if left_out and ".".join(path) in body.sent:
            covered += 1
            names[name] = True
            continue
        if left_out:
            skipped.append(f"{origin}: {'.'.join(path)}")
            names.setdefault(name, False)
            continue
        ok = has_path(schema, crd_path(body, path))
        covered += ok
        names[name] = names.get(name, False) or ok
        if not ok:
            missing.append(f"{origin}: {'.'.join(path)} -> {'.'.join(crd_path(body, path))}")
    return Coverage(
        kind.name, len(fields), covered, len(names), sum(names.values()), missing, skipped
    )


def exclusions() -> dict[str, frozenset[str]]:
    table = yaml.safe_load((HERE / "exclusions.yaml").read_text(encoding="utf-8")) or {}
    return {family: frozenset(entries or {}) for family, entries in table.items()}


def measure_all(crd_dir: Path) -> list[Coverage]:
    excluded = exclusions()
    return [measure(kind, crd_dir, excluded.get(kind.family, frozenset())) for kind in KINDS]


# Measured with this module on the CRDs of commit 59e995c (before issue 23), for the record.
BEFORE = {
    "TrainingJob": ((85, 184), (127, 271)),
    "Service": ((85, 171), (245, 520)),
    "Notebook": ((28, 58), (45, 125)),
    "Workspace": ((7, 8), (13, 15)),
    "Model": ((48, 49), (73, 74)),
}
DOC = ROOT / "docs" / "vocabulary.md"


def render_doc(results: list[Coverage]) -> str:
    """docs/vocabulary.md: coverage per kind (before and now) and the exclusions."""
    lines = [
        "# The cloud's vocabulary in the CRDs",
        "",
        "Generated by `make vocab` (hack/vocabulary/coverage.py); do not edit. How much of the",
        "request vocabulary each kind can say: every field of the official SDKs' request",
        "models for its create, update and tag calls (huaweicloudsdkmodelarts /",
        "huaweicloudsdkdataartsfabric 3.1.219), and for the 2020 forms every field of the 2020",
        "API reference's request tables (hack/vocabulary/reference_v1.yaml). **Paths** counts",
        "every field at its place; **names** the distinct field names at any depth (a name",
        "counts once any of its fields is expressible). Left-out fields count as missing,",
        "except an envelope's constants the client sends itself (a network's apiVersion and",
        "kind), which the cloud gets on every call.",
        "",
        "| Kind | names before | names now | paths before | paths now | left out |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        before = BEFORE.get(r.kind)  # a kind that came later had no CRD before
        names_before = paths_before = "new kind"
        if before is not None:
            (nb, nt), (pb, pt) = before
            names_before, paths_before = f"{nb}/{nt} ({nb / nt:.0%})", f"{pb}/{pt} ({pb / pt:.0%})"
        lines.append(
            f"| {r.kind} | {names_before} | {r.covered_names}/{r.names} "
            f"({r.name_share:.1%}) | {paths_before} | {r.covered_paths}/{r.paths} "
            f"({r.path_share:.1%}) | {len(r.excluded)} |"
        )
    lines += [
        "",
        '"Before" is the CRDs of commit 59e995c measured the same way (issue 23\'s own count,',
        "create bodies only and names only, was v2 training 42/104, v2 services 47/116,",
        "notebooks 21/40, workspaces 6/7).",
        "",
        "## Left out on purpose",
        "",
        "From hack/vocabulary/exclusions.yaml and reference_v1.yaml:",
        "",
    ]
    table = yaml.safe_load((HERE / "exclusions.yaml").read_text(encoding="utf-8")) or {}
    for family, entries in table.items():
        for key, reason in (entries or {}).items():
            lines.append(f"- `{key}` ({family}): {reason}")
    for kind, entries in _reference_v1().items():
        for entry in entries:
            for key, reason in (entry.get("excluded") or {}).items():
                lines.append(f"- `{key}` ({kind}, 2020 form: {entry['body']}): {reason}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    args = [a for a in argv if not a.startswith("-")]
    crd_dir = Path(args[0]) if args else ROOT / "crds"
    results = measure_all(crd_dir)
    if "--write" in argv:
        DOC.write_text(render_doc(results), encoding="utf-8")
        print(f"wrote {DOC.relative_to(ROOT)}")
        return 0
    for result in results:
        print(
            f"{result.kind:18} names {result.covered_names:3}/{result.names:3} "
            f"({result.name_share:6.1%})  paths {result.covered_paths:4}/{result.paths:4} "
            f"({result.path_share:6.1%})  excluded {len(result.excluded)}"
        )
        for line in result.missing if "-v" in argv else ():
            print("    missing", line)
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
