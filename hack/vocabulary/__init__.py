"""The cloud's vocabulary at development time: the official SDKs' request models walked, the
operator's spec models generated from them (``generate.py``), and the committed tables the
generator and the coverage test read (``descriptions.yaml``, ``rules.yaml``,
``exclusions.yaml``). Nothing here is imported by the operator at run time: the SDKs are
development dependencies."""
