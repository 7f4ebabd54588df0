"""CRD types: one module per kind with its pydantic Spec/Status models and ``CRD`` (its names,
printer columns and description); ``common`` holds what the kinds share. ``schema`` turns the
models into structural CRD schemas, ``generate`` writes the manifests and ``docs`` the
reference. Which kinds exist is their declarations' business (``resources.KINDS``).
"""
