"""The test bed of modelarts-operator: what tests, benchmarks and the demo run around the
operator and production never does — the ModelArts emulator, the local control plane (etcd +
kube-apiserver), the single-node cluster and the demo pipeline.

A distribution of its own (``modelarts-testbed``, installed by ``make venv`` beside the
operator), so the operator's image carries the operator alone. It registers its commands in
the ``modelarts-operator`` console script when it is installed (``emulator``, ``cluster``,
``node``, ``demo``).
"""
