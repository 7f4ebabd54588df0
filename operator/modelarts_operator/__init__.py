"""modelarts-operator: Huawei Cloud ModelArts as Kubernetes custom resources."""

__version__ = "0.1.0"

GROUP = "modelarts.huaweicloud.com"
VERSION = "v1alpha1"
