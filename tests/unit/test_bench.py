"""The benchmark tooling's command line and its charts (no benchmark runs here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path
from typing import Any

import bench.__main__ as cli
import pytest
from bench import operator_scale, per_object_operator, plots
from bench.__main__ import ROOT, main

DOCS_CHARTS = ROOT / "docs" / "benchmarks"


def bench(*argv: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bench", *argv],
        capture_output=True, text=True, check=False, timeout=60, cwd=ROOT,
    )  # fmt: skip


@pytest.mark.parametrize(
    "argv",
    [["--help"], ["scale", "--help"], ["cycle", "--help"], ["soak", "--help"],
     ["results", "--help"], ["plots", "--help"], ["all", "--help"]],
)  # fmt: skip
def test_help_is_help_everywhere(argv: list[str]) -> None:
    proc = bench(*argv)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.startswith("usage: python -m bench")
    assert "Traceback" not in proc.stdout + proc.stderr
    assert '"busy"' not in proc.stdout  # no stored results instead of help


def test_no_command_prints_help_and_fails() -> None:
    proc = bench()
    assert proc.returncode == 2
    assert "COMMAND" in proc.stdout


@pytest.mark.parametrize(
    ("argv", "named"),
    [
        (["scale", "10x"], "argument N: not a number of objects: '10x'"),
        (["scale", "notebooks", "0"], "argument N: a number of objects is at least 1, not 0"),
        (["scale", "gadgets", "10"], "argument workload: invalid choice: 'gadgets'"),
        (["soak", "100", "soon"], "argument minutes: not a number of minutes: 'soon'"),
        (["cycle", "--form", "v3"], "argument --form: invalid choice: 'v3'"),
        (["frobnicate"], "argument COMMAND: invalid choice: 'frobnicate'"),
    ],
)
def test_a_bad_argument_is_named_without_a_traceback(argv: list[str], named: str) -> None:
    proc = bench(*argv)
    assert proc.returncode == 2
    assert named in proc.stderr
    assert "Traceback" not in proc.stderr


def test_unknown_result_names_are_refused_with_the_known_ones(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["results", "operator_scale_1000", "nope"]) == 2
    err = capsys.readouterr().err
    assert "no result named nope" in err
    assert "operator_scale_10000" in err


def test_results_prints_the_named_result(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["results", "operator_scale_1000"]) == 0
    assert '"operator_scale_1000"' in capsys.readouterr().out


def test_scale_takes_a_size_in_the_workloads_place(monkeypatch: pytest.MonkeyPatch) -> None:
    """`scale 100` is 100 v1 TrainingJobs, as it always was."""
    import bench.__main__ as cli

    asked: list[dict[str, list[int]]] = []
    monkeypatch.setattr(cli, "_scale", lambda scales: asked.append(scales) or 0)
    assert main(["scale", "100", "1000"]) == 0
    assert main(["scale", "notebooks"]) == 0
    assert asked == [{"trainingjobs": [100, 1000]}, {"notebooks": [1000, 10000]}]


def test_the_docs_charts_are_what_the_stored_results_draw(tmp_path: Path) -> None:
    written = plots.write(tmp_path)
    assert [p.name for p in written] == [
        "calls-per-cycle.svg", "time-to-synced.svg", "rss.svg", "lag.svg"
    ]  # fmt: skip
    for path in written:
        committed = DOCS_CHARTS / path.name
        assert committed.read_text() == path.read_text(), (
            f"{committed} is stale: run `python -m bench plots`"
        )
    docs = (ROOT / "docs" / "benchmarks.md").read_text()
    for path in written:
        assert f"(benchmarks/{path.name})" in docs


def test_charts_carry_every_workload_and_the_peer() -> None:
    runs = plots.load()
    charts = {c.name: c for c in plots.charts(runs)}
    calls = charts["calls-per-cycle"]
    batched = [s for s in calls.series if not s.dashed]
    peers = [s for s in calls.series if s.dashed]
    assert {s.label for s in batched} == set(plots.LABELS.values())
    assert peers, "the per-object peer is drawn"
    # A figure read from its result, not made up: 10,000 v2 jobs made 200 calls per cycle.
    v2 = next(s for s in batched if s.label == "TrainingJob v2")
    assert (10000.0, 200.0) in v2.points
    lag = charts["lag"]
    assert {s.label for s in lag.series} == {
        "TrainingJob v1 p50", "TrainingJob v1 p95", "TrainingJob v2 p50", "TrainingJob v2 p95"
    }  # fmt: skip


def test_variants_of_a_run_are_not_plotted() -> None:
    runs = plots.load()
    assert set(runs["trainingjobs-v2"]) == {1000, 10000}  # not ..._10000_before_gc_tuning


def test_svg_is_well_formed_and_escapes_text() -> None:
    import xml.etree.ElementTree as ET

    chart = plots.Chart(
        "t", "A & B <c>", "y", [plots.Series("s <1>", "#000", [(100.0, 1.0), (1000.0, 10.0)])]
    )
    root = ET.fromstring(plots.render(chart))  # noqa: S314 - our own output
    texts = [t.text for t in root.iter("{http://www.w3.org/2000/svg}text")]
    assert "A & B <c>" in texts
    assert "s <1>" in texts


def _declaration(kind: str) -> Any:
    from modelarts_operator.resources import KINDS

    return next(d for d in KINDS if d.crd.kind == kind)


@pytest.mark.parametrize("name", sorted(operator_scale.WORKLOADS))
def test_every_workload_makes_objects_its_kind_accepts(name: str) -> None:
    """A spec the CRD model refuses, or an ID field the kind does not write, would surface
    only minutes into a run at 1,000: checked here for every workload and its prelude."""
    workload = operator_scale.WORKLOADS[name]
    declaration = _declaration(workload.kind)
    assert (workload.plural, workload.id_field) == (declaration.plural, declaration.id_field)
    # The per-object peer reads the same kind by the same ID (else it reads nothing: 0 calls).
    assert per_object_operator.ID_FIELDS[workload.plural] == workload.id_field
    for i in (0, 999):
        declaration.crd.spec.model_validate(workload.spec(i))
    for body in workload.prelude() if workload.prelude else []:
        _declaration(body["kind"]).crd.spec.model_validate(body["spec"])
    assert set(operator_scale.WORKLOADS) == set(cli.ALL_SCALES)


def _obj(phase: str, **status: Any) -> dict[str, Any]:
    return {"metadata": {"name": "w"}, "status": {"phase": phase, **status}}


@pytest.mark.parametrize(
    ("needs", "obj", "shown"),
    [
        (None, _obj("Ready", workspaceId="1"), True),
        (None, _obj("Creating", workspaceId="1"), False),
        ("quotas", _obj("Ready", workspaceId="1"), False),  # Ready before the quotas are set
        ("quotas", _obj("Ready", workspaceId="1", quotas=[{"quota": 5}]), True),
        ("quotas", _obj("Creating", quotas=[{"quota": 5}]), False),
    ],
)
def test_a_remote_state_counts_as_shown_only_with_what_the_workload_needs(
    needs: str | None, obj: dict[str, Any], shown: bool
) -> None:
    seen = operator_scale.Seen("workspaceId", ("Ready",), needs)
    seen.record(obj)
    assert ("w" in seen.active) is shown
    assert ("w" in seen.synced) is ("workspaceId" in obj["status"])
