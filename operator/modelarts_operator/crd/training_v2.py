"""The current (v2) form of a TrainingJob: the create body of ``/v2/{project_id}/training-jobs``.

Huawei retired v1 training on 2023-06-30; the official SDK and the Terraform provider speak
only v2. The API's models are generated from the SDK (``vocab.training``); the TrainingJob
spec flattens the body's envelopes: the body's ``spec`` fields (resource, volumes, log export,
scheduling, notification, metrics...) sit at the top of the TrainingJob spec
(``TrainingJobSpec`` extends the generated ``Spec``), ``metadata`` becomes ``jobName``,
``jobDesc``, ``workspaceId``/``workspaceRef``, ``annotations`` and ``experiment``, ``kind`` is
``jobKind``, and ``algorithm``, ``endpoints``, ``trainType`` and ``ftjobConfig`` keep their
names. The constraints are the SDK's and the reference's (see the generated module and
hack/vocabulary/rules.yaml for their sources); ``features`` and ``previousJobPolicy`` are the
operator's own.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import ConfigDict, Field

from ..vocab import training as vocab
from .common import (
    CrdModel,
    LocalObjectReference,
    cel,
    rules_of,
    sdk_field,
    tags_field,
    validations,
)

PreviousJobPolicy = Literal["Retain", "Delete"]


class FaultTolerance(CrdModel):
    """Automatic restarts (the API's fault-tolerance annotations)."""

    job_retry_num: int | None = Field(
        default=None,
        ge=1,
        le=128,
        description=(
            "Restart the job up to this many times on a fault (annotation "
            "fault-tolerance/job-retry-num)."
        ),
    )
    unconditional_retry: bool | None = Field(
        default=None,
        description=(
            "Restart whatever the exit code, not only on platform faults (annotation "
            "fault-tolerance/job-unconditional-retry)."
        ),
    )
    hang_retry: bool | None = Field(
        default=None,
        description="Restart a job that hangs (annotation fault-tolerance/hang-retry).",
    )


class TrainingFeatures(CrdModel):
    """Switches the API takes as job annotations (``metadata.annotations``), typed; the same
    keys set in ``annotations`` win."""

    fault_tolerance: FaultTolerance | None = Field(default=None, description="Automatic restarts.")
    tensorboard: bool | None = Field(
        default=None, description="Serve TensorBoard for the job (annotation tensorboard/enable)."
    )
    jupyter_lab: bool | None = Field(
        default=None, description="Serve JupyterLab in the job (annotation jupyter-lab/enable)."
    )


AnnotationValue = Annotated[str, Field(max_length=256)]


class SummaryJob(vocab.JobSummary):
    """The training job a visualization job reads the logs of: its ID (``jobId``), or with
    ``jobRef`` a TrainingJob object whose ID (``status.jobId``) fills it in."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            *rules_of(vocab.JobSummary),
            cel(
                "has(self.jobId) != has(self.jobRef)",
                "give exactly one of jobId and jobRef (jobRef fills jobId in)",
                field_path=".jobRef",
            ),
        )
    )

    # SDK JobSummary.job_id is required; jobRef stands in for it (the rule above).
    job_id: str | None = sdk_field(vocab.JobSummary, "job_id")  # type: ignore[assignment]
    job_ref: LocalObjectReference | None = Field(
        default=None,
        description=(
            "The operator's: a TrainingJob object (v2 form) in the same namespace whose ID "
            "(status.jobId) is the data source; the visualization job waits until it has one "
            "(it need not have finished)."
        ),
    )


class SummaryDataSource(vocab.DataSource):
    """A visualization job's log input, whose job may be named by ``jobRef``."""

    job: SummaryJob = Field(description=vocab.DataSource.model_fields["job"].description)


class TrainingSummary(vocab.Summary):
    """Visualization logs: where a training job writes them (``logType``, ``logDir``), and
    what a visualization job reads (``dataSources``, whose jobs may be named by ``jobRef``)."""

    data_sources: list[SummaryDataSource] | None = sdk_field(vocab.Summary, "data_sources")  # type: ignore[assignment]


class TrainingAlgorithm(vocab.JobAlgorithm):
    """What runs, and with ``algorithmRef`` an Algorithm object whose ID is the job's
    ``algorithm.id``."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            *rules_of(vocab.JobAlgorithm),
            cel(
                "!has(self.algorithmRef) || !has(self.id)",
                "algorithmRef fills id in: give one of them",
                field_path=".algorithmRef",
            ),
        )
    )

    summary: TrainingSummary | None = sdk_field(vocab.JobAlgorithm, "summary")

    algorithm_ref: LocalObjectReference | None = Field(
        default=None,
        description=(
            "The operator's: an Algorithm object in the same namespace whose ID "
            "(status.algorithmId) the job starts from; the job waits until it is ready."
        ),
    )


def _pool_or_ref(rule: dict[str, str]) -> dict[str, str]:
    """A generated rule about poolId, where poolRef (which fills poolId in) counts too."""
    return {**rule, "rule": rule["rule"].replace("has(self.poolId)", POOL_ID_OR_REF)}


POOL_ID_OR_REF = "(has(self.poolId) || has(self.poolRef))"


class TrainingResource(vocab.SpecResource):
    """Where the job runs, and with ``poolRef`` a ResourcePool object whose ID is the job's
    ``resource.poolId``."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            *(_pool_or_ref(rule) for rule in rules_of(vocab.SpecResource)),
            cel(
                "!has(self.poolRef) || !has(self.poolId)",
                "poolRef fills poolId in: give one of them",
                field_path=".poolRef",
            ),
        )
    )

    pool_ref: LocalObjectReference | None = Field(
        default=None,
        description=(
            "The operator's: a ResourcePool object in the same namespace whose ID "
            "(status.poolId) the job runs on; the job waits until the pool is running."
        ),
    )


class TrainingV2Fields(vocab.Spec):
    """The v2 form's fields: the body's ``spec`` (inherited from the generated ``Spec``) and
    the rest of the create body, flattened."""

    resource: TrainingResource | None = sdk_field(vocab.Spec, "resource")
    algorithm: TrainingAlgorithm | None = sdk_field(
        vocab.Job,
        "algorithm",
        description=(
            "v2: what runs: an algorithm (algorithmRef or id, or a subscription), or code "
            "(codeDir, bootFile) "
            "with an engine or a custom image and its command; parameters, inputs, outputs, "
            "environment. A change runs a new job (see previousJobPolicy)."
        ),
    )
    endpoints: vocab.JobEndpointsReq | None = sdk_field(vocab.Job, "endpoints")
    train_type: vocab.JobTrainType | None = sdk_field(vocab.Job, "train_type")
    ftjob_config: vocab.MasJobConfig | None = sdk_field(vocab.Job, "ftjob_config")
    job_kind: vocab.JobKind | None = sdk_field(
        vocab.Job, "kind", description="v2: the job's kind (API field kind; default job)."
    )
    experiment: vocab.TrainingExperimentRequest | None = sdk_field(
        vocab.JobMetadata, "training_experiment_reference"
    )
    annotations: dict[str, AnnotationValue] | None = sdk_field(vocab.JobMetadata, "annotations")
    features: TrainingFeatures | None = Field(
        default=None,
        description="v2: fault tolerance, TensorBoard and JupyterLab switches (typed annotations).",
    )
    previous_job_policy: PreviousJobPolicy | None = Field(
        default=None,
        description=(
            "v2: what happens to the job a spec change replaced (the API cannot change a job's "
            "training fields, so a new job runs under a new name): Retain (default) keeps it "
            "in ModelArts, stopped if it was running; Delete stops and deletes it."
        ),
    )
    tags: list[vocab.TmsTag] | None = tags_field()


# Everything that belongs to the v2 form (camelCase), for the rule that keeps it apart from
# the 2020 form (config); the v1 API has no tags either.
V2_FIELDS = tuple((info.alias or name) for name, info in TrainingV2Fields.model_fields.items())

FORM_RULES = (
    cel(
        "has(self.config) != has(self.algorithm)",
        "set exactly one form: config (the 2020 v1 training API) or algorithm + resource "
        "(the current v2 API)",
    ),
    cel(
        "!has(self.config) || !("
        + " || ".join(f"has(self.{f})" for f in V2_FIELDS if f != "algorithm")
        + ")",
        "fields of the v2 form (algorithm) cannot be combined with config: "
        + ", ".join(f for f in V2_FIELDS if f != "algorithm"),
    ),
    # Terraform modelarts_training_job docs: spec.resource "(Required ...)"; the operator
    # requires the v2 form to say where it runs.
    cel(
        "!has(self.algorithm) || has(self.resource)",
        "the v2 form needs resource (flavorId and/or poolId, nodeCount)",
        field_path=".resource",
    ),
    # SDK SpecResource.pool_group_id: "当kind为federated_pool_job时，该字段必填" (required
    # when kind is federated_pool_job).
    cel(
        "!has(self.jobKind) || self.jobKind != 'federated_pool_job' || "
        "(has(self.resource) && has(self.resource.poolGroupId))",
        "a federated_pool_job needs resource.poolGroupId",
        field_path=".resource",
    ),
    cel(
        "has(self.config) == has(oldSelf.config)",
        "the API form (config or algorithm) cannot change; create a new object",
        reason="FieldValueForbidden",
    ),
)
"""Spec-level CEL rules choosing between the v1 and the v2 form (add to the spec's rules)."""
