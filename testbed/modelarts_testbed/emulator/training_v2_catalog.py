"""The v2 training catalogues (``GET /v2/{project_id}/training-job-flavors`` and
``/training-job-engines``), in the SDK's shapes, and the per-job renderings of a flavor.

A flavor is stored once and rendered two ways because the SDK types the same facts
differently in two places: the catalogue's ``flavor_info.disk.size`` is an integer
(``DiskResponse``) while a job's ``spec.resource.flavor_detail.flavor_info.disk.size`` is a
string (``Disk``); ``npu.unit_num`` and ``gpu.memory`` are strings in both.
"""

from __future__ import annotations

import json
from typing import Any

ENGINES_V2: list[dict[str, Any]] = [
    {"engine_id": "pytorch-cp36-1.4.0-v2", "engine_name": "PyTorch",
     "engine_version": "PyTorch-1.4.0-python3.6-v2", "v1_compatible": False, "run_user": "1102",
     "image_info": {"cpu_image_url": "aip/pytorch_1_4:train", "gpu_image_url":
                    "aip/pytorch_1_4:train", "image_version": "pytorch_1.4.0-cuda_10.1-py_3.6"}},
    {"engine_id": "pytorch_1.8.0-cuda_10.2-py_3.7-ubuntu_18.04-x86_64", "engine_name": "PyTorch",
     "engine_version": "pytorch_1.8.0-cuda_10.2-py_3.7-ubuntu_18.04-x86_64",
     "v1_compatible": False, "run_user": "1102",
     "image_info": {"cpu_image_url": "atelier/pytorch_1_8:pytorch_1.8.0-cuda_10.2-py_3.7",
                    "gpu_image_url": "atelier/pytorch_1_8:pytorch_1.8.0-cuda_10.2-py_3.7",
                    "image_version": "pytorch_1.8.0-cuda_10.2-py_3.7-ubuntu_18.04-x86_64"}},
    {"engine_id": "tensorflow_2.1.0-cuda_10.1-py_3.7-ubuntu_18.04-x86_64",
     "engine_name": "TensorFlow",
     "engine_version": "tensorflow_2.1.0-cuda_10.1-py_3.7-ubuntu_18.04-x86_64",
     "v1_compatible": False, "run_user": "1102",
     "image_info": {"cpu_image_url": "atelier/tensorflow_2_1:tensorflow_2.1.0-cuda_10.1-py_3.7",
                    "gpu_image_url": "atelier/tensorflow_2_1:tensorflow_2.1.0-cuda_10.1-py_3.7",
                    "image_version": "tensorflow_2.1.0-cuda_10.1-py_3.7-ubuntu_18.04-x86_64"}},
    {"engine_id": "mindspore_1.7.0-cann_5.1.0-py_3.7-euler_2.8.3-aarch64",
     "engine_name": "MindSpore",
     "engine_version": "mindspore_1.7.0-cann_5.1.0-py_3.7-euler_2.8.3-aarch64",
     "v1_compatible": False, "run_user": "1000",
     "image_info": {"cpu_image_url": "", "gpu_image_url": "",
                    "image_version": "mindspore_1.7.0-cann_5.1.0-py_3.7-euler_2.8.3-aarch64"}},
    {"engine_id": "caffe-1.0.0-python2.7", "engine_name": "Caffe",
     "engine_version": "Caffe-1.0.0-python2.7", "v1_compatible": True, "run_user": "1102",
     "image_info": {"cpu_image_url": "aip/caffe:1.0.0-cpu", "gpu_image_url": "aip/caffe:1.0.0",
                    "image_version": "caffe-1.0.0-python2.7"}},
]  # fmt: skip
ENGINES_V2_BY_ID = {e["engine_id"]: e for e in ENGINES_V2}
ENGINES_V2_BY_NAME = {(e["engine_name"], e["engine_version"]): e for e in ENGINES_V2}

# flavor_id -> facts; "accelerator" is (kind, count, product, memory) or None.
FLAVORS_V2: dict[str, dict[str, Any]] = {
    "modelarts.vm.cpu.2u": {"name": "Computing CPU(2U) instance", "type": "CPU", "max_num": 4,
                            "cpu": 2, "memory_gb": 8, "disk_gb": 50, "accelerator": None},
    "modelarts.vm.cpu.8u": {"name": "Computing CPU(8U) instance", "type": "CPU", "max_num": 8,
                            "cpu": 8, "memory_gb": 32, "disk_gb": 100, "accelerator": None},
    "modelarts.p3.large.public.free": {
        "name": "GPU: 1*NVIDIA-V100(32GB) | CPU: 8 vCPUs 64GB (free)", "type": "GPU",
        "max_num": 1, "cpu": 8, "memory_gb": 64, "disk_gb": 780,
        "accelerator": ("gpu", 1, "NVIDIA-V100", "32GB")},
    "modelarts.vm.pnt1.large.eco": {
        "name": "GPU: 1*NVIDIA-V100(16GB) | CPU: 8 vCPUs 64GB", "type": "GPU", "max_num": 8,
        "cpu": 8, "memory_gb": 64, "disk_gb": 780,
        "accelerator": ("gpu", 1, "NVIDIA-V100", "16GB")},
    "modelarts.kat1.xlarge": {
        "name": "Ascend: 1*ascend-snt9(32GB) | ARM: 24 vCPUs 96GB", "type": "Ascend",
        "max_num": 16, "cpu": 24, "memory_gb": 96, "disk_gb": 750,
        "accelerator": ("npu", 1, "Ascend-snt9", "32GB")},
}  # fmt: skip


def _flavor_info(flavor_id: str, *, disk_as_string: bool) -> dict[str, Any]:
    f = FLAVORS_V2[flavor_id]
    info: dict[str, Any] = {
        "max_num": f["max_num"],
        "cpu": {"arch": "aarch64" if f["type"] == "Ascend" else "x86", "core_num": f["cpu"]},
        "memory": {"size": f["memory_gb"], "unit": "GB"},
        "disk": {"size": str(f["disk_gb"]) if disk_as_string else f["disk_gb"], "unit": "GB"},
    }
    acc = f["accelerator"]
    if acc is not None:
        kind, count, product, memory = acc
        info[kind] = {
            "unit_num": str(count) if kind == "npu" else count,
            "product_name": product,
            "memory": memory,
        }
    return info


def flavor_catalogue_item(flavor_id: str) -> dict[str, Any]:
    """One ``FlavorResponseWithSupport``."""
    f = FLAVORS_V2[flavor_id]
    engines = [
        e["engine_id"]
        for e in ENGINES_V2
        if (f["type"] == "Ascend") == e["engine_name"].startswith("MindSpore")
    ]
    return {
        "flavor_id": flavor_id,
        "flavor_name": f["name"],
        "max_num": f["max_num"],
        "flavor_type": f["type"],
        "billing": {"code": flavor_id, "unit_num": 1},
        "flavor_info": _flavor_info(flavor_id, disk_as_string=False),
        "attributes": {},
        "support_engines": json.dumps(engines),
        "support_groups": "public",
    }


def flavor_detail(flavor_id: str) -> dict[str, Any]:
    """A job's ``spec.resource.flavor_detail`` (``FlavorDetail``)."""
    f = FLAVORS_V2[flavor_id]
    return {
        "flavor_type": f["type"],
        "billing": {"code": flavor_id, "unit_num": 1},
        "flavor_info": _flavor_info(flavor_id, disk_as_string=True),
    }


def accelerated(flavor_id: str | None) -> str | None:
    """ "gpu", "npu" or None (CPU flavors, or a dedicated pool's own flavor)."""
    f = FLAVORS_V2.get(flavor_id or "")
    return f["accelerator"][0] if f is not None and f["accelerator"] else None
