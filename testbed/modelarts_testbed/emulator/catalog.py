"""Static catalogues the cloud serves (resource specs, engines, built-in algorithms, service
specifications), taken from the reference's samples and tables."""

from __future__ import annotations

from typing import Any

TRAIN_SPECS: list[dict[str, Any]] = [
    {"spec_id": 1, "core": "8", "cpu": "64", "gpu_num": 1, "gpu_type": "nvidia-p100",
     "spec_code": "modelarts.vm.gpu.p100", "unit_num": 1, "max_num": 4, "storage": "",
     "interface_type": 1, "no_resource": False},
    {"spec_id": 2, "core": "2", "cpu": "8", "gpu_num": 0, "gpu_type": "",
     "spec_code": "modelarts.vm.cpu.2u", "unit_num": 1, "max_num": 2, "storage": "",
     "interface_type": 1, "no_resource": False},
    {"spec_id": 3, "core": "8", "cpu": "32", "gpu_num": 0, "gpu_type": "",
     "spec_code": "modelarts.vm.cpu.8u", "unit_num": 1, "max_num": 8, "storage": "",
     "interface_type": 1, "no_resource": False},
    {"spec_id": 4, "core": "8", "cpu": "64", "gpu_num": 1, "gpu_type": "nvidia-p100",
     "spec_code": "modelarts.vm.gpu.p100", "unit_num": 1, "max_num": 4, "storage": "",
     "interface_type": 1, "no_resource": False},
    {"spec_id": 5, "core": "32", "cpu": "256", "gpu_num": 8, "gpu_type": "nvidia-v100",
     "spec_code": "modelarts.vm.gpu.8v100", "unit_num": 8, "max_num": 16, "storage": "3200GB",
     "interface_type": 1, "no_resource": False},
]  # fmt: skip
SPECS_BY_ID = {s["spec_id"]: s for s in TRAIN_SPECS}

ENGINES: list[dict[str, Any]] = [
    {"engine_type": 1, "engine_name": "TensorFlow", "engine_id": 1,
     "engine_version": "TF-1.4.0-python2.7"},
    {"engine_type": 1, "engine_name": "TensorFlow", "engine_id": 2,
     "engine_version": "TF-1.13.1-python3.6"},
    {"engine_type": 2, "engine_name": "MXNet", "engine_id": 3,
     "engine_version": "MXNet-1.2.1-python3.6"},
    {"engine_type": 4, "engine_name": "Caffe", "engine_id": 4,
     "engine_version": "Caffe-1.0.0-python2.7"},
    {"engine_type": 10, "engine_name": "PyTorch", "engine_id": 5,
     "engine_version": "PyTorch-1.8.0-python3.7"},
    {"engine_type": 9, "engine_name": "XGBoost-Sklearn", "engine_id": 6,
     "engine_version": "Scikit_Learn-0.18.1-python3.6"},
    {"engine_type": 3, "engine_name": "Ray", "engine_id": 7,
     "engine_version": "RAY-0.7.4-python3.6"},
    {"engine_type": 12, "engine_name": "Horovod", "engine_id": 8,
     "engine_version": "horovod_0.20.0-pytorch_1.6.0"},
    {"engine_type": 5, "engine_name": "Spark_MLlib", "engine_id": 9,
     "engine_version": "Spark-2.3.2-python3.6"},
    {"engine_type": 2, "engine_name": "MXNet", "engine_id": 501,
     "engine_version": "MXNet-1.2.1-python2.7"},
]  # fmt: skip
ENGINES_BY_ID = {e["engine_id"]: e for e in ENGINES}

BUILT_IN_ALGORITHMS: list[dict[str, Any]] = [
    {"model_id": 4, "model_name": "ResNet_v2_50", "model_usage": 1,
     "model_precision": "75.55%(top1), 92.6%(top5)", "model_size": 102503801,
     "model_train_dataset": "ImageNet, 1,000 classes for image classification",
     "model_dataset_format": "shape: [H>=32, W>=32, C>=1]; type: int8",
     "model_description_url":
         "https://github.com/apache/incubator-mxnet/tree/master/example/image-classification",
     "parameter": '[{"label":"batch_size","value":"4","placeholder_cn":"","placeholder_en":"",'
                  '"required":true}]',
     "create_time": 1522218780025, "engine_id": 501, "engine_name": "MXNet",
     "engine_version": "MXNet-1.2.1-python2.7"},
    {"model_id": 5, "model_name": "Faster_RCNN_ResNet_v2_101", "model_usage": 2,
     "model_precision": "70.7%(mAP)", "model_size": 201934000,
     "model_train_dataset": "PASCAL VOC2007", "model_dataset_format": "shape: [H, W, C]",
     "model_description_url": "https://github.com/tensorflow/models",
     "parameter": '[{"label":"learning_rate","value":"0.01","placeholder_cn":"",'
                  '"placeholder_en":"","required":false}]',
     "create_time": 1522218780025, "engine_id": 1, "engine_name": "TensorFlow",
     "engine_version": "TF-1.4.0-python2.7"},
]  # fmt: skip
ALGORITHMS_BY_ID = {a["model_id"]: a for a in BUILT_IN_ALGORITHMS}

REALTIME_SPECS = {
    "modelarts.vm.cpu.2u",
    "modelarts.vm.gpu.0.25p4",
    "modelarts.vm.gpu.0.5p4",
    "modelarts.vm.gpu.p4",
    "modelarts.vm.gpu.0.25t4",
    "modelarts.vm.gpu.0.5t4",
    "modelarts.vm.gpu.t4",
    "modelarts.vm.arm.d310.3u6g",
    "modelarts.vm.ai1.a310",
    "modelarts.vm.cpu.free",
    "modelarts.vm.gpu.free",
    "custom",
}
BATCH_SPECS = {"modelarts.vm.cpu.2u", "modelarts.vm.gpu.p4"}
EDGE_SPECS = {"modelarts.vm.cpu.2u", "modelarts.vm.gpu.p4"}


def service_specifications(infer_type: str) -> list[dict[str, Any]]:
    names = {
        "real-time": sorted(REALTIME_SPECS - {"custom"}),
        "batch": sorted(BATCH_SPECS),
        "edge": sorted(EDGE_SPECS),
    }[infer_type]
    out = []
    for name in names:
        out.append(
            {
                "specification": name,
                "billing_spec": name,
                "is_open": name != "modelarts.vm.ai1.a310",
                "spec_status": "normal",
                "is_free": name.endswith(".free"),
                "over_quota": False,
                "extend_params": 1,
                "source_type": "",
            }
        )
    return out


WORKSPACE_QUOTAS: list[dict[str, Any]] = [
    {"name_en": "ExeML training duration (image classification, object detection, and sound "
     "classification)", "name_cn": "自动学习训练时长(图像分类、物体检测、声音分类)",
     "resource": "exemlProject.gpu_duration", "quota": -1, "min_quota": -1,
     "max_quota": 60000, "unit_en": "minute", "unit_cn": "分钟"},
    {"name_en": "Training job duration", "name_cn": "训练作业时长",
     "resource": "trainJob.gpu_duration", "quota": -1, "min_quota": -1,
     "max_quota": 600000, "unit_en": "minute", "unit_cn": "分钟"},
    {"name_en": "Notebook duration", "name_cn": "Notebook时长",
     "resource": "notebook.gpu_duration", "quota": -1, "min_quota": -1,
     "max_quota": 600000, "unit_en": "minute", "unit_cn": "分钟"},
]  # fmt: skip
QUOTAS_BY_RESOURCE = {q["resource"]: q for q in WORKSPACE_QUOTAS}
