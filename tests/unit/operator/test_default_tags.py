"""Operator-wide default tags (MODELARTS_DEFAULT_TAGS, the chart's resourceTags): parsed from
key=value pairs or JSON, checked as the cloud checks tags, and merged under a spec's own tags
with the ownership tag last."""

from __future__ import annotations

import pytest

from modelarts_operator.reconcile.naming import OWNER_TAG_KEY, desired_tags
from modelarts_operator.settings import MAX_DEFAULT_TAGS, OperatorSettings, SettingsError


def tags_of(raw: str) -> dict[str, str]:
    return OperatorSettings.from_env({"MODELARTS_DEFAULT_TAGS": raw}).default_tags


def test_unset_means_none() -> None:
    assert OperatorSettings.from_env({}).default_tags == {}


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("team=ml", {"team": "ml"}),
        ("team=ml, cost-center = 42,", {"team": "ml", "cost-center": "42"}),
        ("formula=a=b", {"formula": "a=b"}),
        ('{"环境": "生产", "k=v": ""}', {"环境": "生产", "k=v": ""}),
    ],
)
def test_pairs_and_json(raw: str, expected: dict[str, str]) -> None:
    assert tags_of(raw) == expected


@pytest.mark.parametrize(
    ("raw", "complaint"),
    [
        ("team", "is not key=value"),
        ("{team", "not a JSON object"),
        ("k8s-owner=x", "operator's own"),
        ("modelarts.huaweicloud.com/owner-uid=x", "operator's own"),
        ("_sys_x=1", "_sys_"),
        ("team=a!b", "pattern"),
        (" =x", "at least 1"),
        ("k=" + "v" * 256, "at most 255"),
        (",".join(f"k{i}=v" for i in range(MAX_DEFAULT_TAGS + 1)), "at most 10"),
    ],
)
def test_what_the_cloud_would_refuse_fails_at_start(raw: str, complaint: str) -> None:
    with pytest.raises(SettingsError, match="MODELARTS_DEFAULT_TAGS") as err:
        tags_of(raw)
    assert complaint in str(err.value)


def test_a_spec_tag_wins_over_a_default_and_the_owner_tag_is_kept() -> None:
    tags = desired_tags(
        [{"key": "team", "value": "vision"}],
        tags_of("team=ml,cost-center=42"),
        marker="[k8s-owner:0123456789abcdef]",
    )
    assert tags == [
        {"key": "cost-center", "value": "42"},
        {"key": OWNER_TAG_KEY, "value": "0123456789abcdef"},
        {"key": "team", "value": "vision"},
    ]
