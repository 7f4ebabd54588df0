"""Machinery shared by the four controllers: conditions, policies, naming, Kubernetes access,
credentials, the exactly-once create protocol, deletion, and batched status polling."""
