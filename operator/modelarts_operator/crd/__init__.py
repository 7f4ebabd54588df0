"""CRD types and what is generated from them.

``common`` holds the shared fields and status shape; one module per kind holds its pydantic
Spec and Status models, printer columns and ``CRD`` (its ``KindInfo``), with a form's models in
a module beside it (``training_v2``, ``service_v2``). ``schema`` turns the models into
structural CRD schemas, ``generate`` writes the manifests, ``docs`` docs/crd-reference.md,
``chart`` renders what the chart and the Argo CD health script take from the kinds'
declarations (``resources.KINDS``), and ``cli`` is ``modelarts-operator crds``. Import the
module you need: this package re-exports nothing, so the CLI loads no kind it does not use.
"""
