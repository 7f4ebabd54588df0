"""The judge itself: it must notice the mismatches the SDK's parser lets through."""

from __future__ import annotations

import warnings

import pytest
from huaweicloudsdkcore.warning.warning import TypeConversionWarning
from huaweicloudsdkmodelarts.v1 import ShowLeaseResponse

from .svc2_judge import judge, shape_problems


def test_a_matching_answer_has_no_problems() -> None:
    lease = {"create_at": 1, "duration": 3_600_000, "enable": True, "type": "TIMING"}
    assert shape_problems(lease, "Lease") == []
    assert shape_problems({"create_at": 1, "allowed_access_ips": ["1.2.3.4"]}, "Lease") == []


def test_a_misspelt_field_is_reported() -> None:
    assert shape_problems({"durations": 1}, "Lease") == [
        "$.durations: not a field of the SDK's Lease"
    ]


def test_it_names_each_mismatch_with_its_path() -> None:
    answer = {
        "id": "x",
        "create_at": 1_700_000_000_000,  # ServiceResponse declares str
        "version": {"instance_groups": [{"count": "2", "unit_configs": {}}]},
        "predict_url": [{"urls": "http://x"}],
    }
    assert shape_problems(answer, "ShowInferServiceResponse") == [
        "$.create_at: expected str, got int 1700000000000",
        "$.version.instance_groups[0].count: expected int, got str '2'",
        "$.version.instance_groups[0].unit_configs: expected a list, got dict",
        "$.predict_url[0].urls: expected a list, got str",
    ]


def test_booleans_are_not_numbers() -> None:
    assert shape_problems({"duration": True}, "Lease") == [
        "$.duration: expected int, got a boolean"
    ]
    assert shape_problems({"enable": 1}, "Lease") == ["$.enable: expected bool, got int 1"]


def test_a_conversion_warning_fails_the_call() -> None:
    def parses_with_a_warning(_request: object) -> ShowLeaseResponse:
        warnings.warn("Type error occurred during the conversion", TypeConversionWarning, 2)
        return ShowLeaseResponse()

    with judge() as j, pytest.raises(AssertionError, match="Type error occurred"):
        j.call(parses_with_a_warning, None)
