"""Model: an imported ModelArts model (``/v1/{project_id}/models``), or with ``spec.llm`` a
DataArts Fabric LLM model (``/v1/workspaces/{workspace_id}/models``).

An imported model version never changes in place, so that form's whole spec is immutable
(CEL ``self == oldSelf``): a new version is a new Model object. A DataArts model is one
remote object with versions: its description changes in place and a changed ``version``
(under a new version name) adds a version, so only ``llm.description`` and ``llm.version``
(and ``deletionPolicy``) may change in that form.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import ConfigDict, Field

from ..vocab import dataarts as vocab
from .common import (
    FREE_FORM,
    MAX_ID,
    MAX_PATH,
    OWN_TEXT_100,
    WORKSPACE_RULES,
    CommonStatus,
    CrdModel,
    KindInfo,
    LocalObjectReference,
    WorkspaceScopedSpec,
    cel,
    sdk_field,
    validations,
)

KIND = "Model"
PLURAL = "models"
SHORT_NAMES = ["mamodel", "mam"]

# 1-64 letters, digits, Chinese characters, - and _ ([A]/[Z]; [E] is ASCII only).
MODEL_NAME_PATTERN = "^[A-Za-z0-9_\u4e00-\u9fa5-]{1,64}$"
# Digit.Digit.Digit, each part 0-99 without a leading zero (the docs' samples use 1.0.0).
MODEL_VERSION_PATTERN = r"^(0|[1-9][0-9]?)\.(0|[1-9][0-9]?)\.(0|[1-9][0-9]?)$"
# Free text that must not contain &!'"<>= (description, model algorithm, package fields).
NO_SPECIALS = "^[^&!'\"<>=]*$"
NO_SPECIALS_NO_CHINESE = "^[^&!'\"<>=\u4e00-\u9fa5]*$"

ModelType = Literal[
    "TensorFlow",
    "MXNet",
    "Caffe",
    "Spark_MLlib",
    "Scikit_Learn",
    "XGBoost",
    "Image",
    "PyTorch",
    "MindSpore",
    "Template",
]
InstallType = Literal["real-time", "edge", "batch"]


class ModelParam(CrdModel):
    """An input or output parameter of the model's inference API."""

    url: str | None = Field(default=None, max_length=MAX_PATH, description="API URL path.")
    method: Literal["post", "get"] | None = Field(default=None, description="Request method.")
    protocol: str | None = Field(
        default=None, max_length=16, description="Request protocol, e.g. http."
    )
    param_name: str | None = Field(
        default=None, max_length=64, description="Parameter name (at most 64 characters)."
    )
    param_type: (
        Literal["int", "string", "float", "timestamp", "date", "file", "box", "object"] | None
    ) = Field(
        default=None,
        description=(
            "Parameter type: int, string, float, timestamp, date or file (documented), "
            "box or object (used by the API's own samples)."
        ),
    )
    min: float | None = Field(default=None, description="Minimum value (int/float only).")
    max: float | None = Field(default=None, description="Maximum value (int/float only).")
    param_desc: str | None = Field(
        default=None, max_length=100, description="Parameter description (at most 100)."
    )


class ModelPackage(CrdModel):
    """A package the inference code needs."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "has(self.packageVersion) == has(self.restraint)",
                "restraint is required exactly when packageVersion is set",
                field_path=".restraint",
            )
        )
    )

    package_name: str = Field(
        min_length=1,
        max_length=MAX_ID,
        pattern=NO_SPECIALS_NO_CHINESE,
        description="Package name; no Chinese characters and none of &!'\"<>=.",
    )
    package_version: str | None = Field(
        default=None,
        max_length=64,
        pattern=NO_SPECIALS_NO_CHINESE,
        description="Package version; unset installs the latest.",
    )
    restraint: Literal["EXACT", "ATLEAST", "ATMOST"] | None = Field(
        default=None, description="How packageVersion is matched; required with it."
    )


class ModelDependency(CrdModel):
    """Packages installed with one installer."""

    installer: Literal["pip"] = Field(description="Installer; only pip is supported.")
    packages: list[ModelPackage] = Field(
        min_length=1,
        max_length=16,  # operator size budget
        description="Packages to install.",
    )


class ModelMetrics(CrdModel):
    """Model precision figures (sent to the API as the JSON string model_metrics)."""

    f1: float | None = Field(default=None, description="F1 score.")
    recall: float | None = Field(default=None, description="Recall.")
    precision: float | None = Field(default=None, description="Precision.")
    accuracy: float | None = Field(default=None, description="Accuracy.")


class ModelApi(CrdModel):
    """One inference API of the model with JSON-Schema input and output definitions."""

    url: str | None = Field(default=None, max_length=MAX_PATH, description="API URL path.")
    method: Literal["post", "get", "POST", "GET"] | None = Field(
        default=None, description="Request method."
    )
    protocol: str | None = Field(
        default=None, max_length=16, description="Request protocol, e.g. http."
    )
    input_params: dict[str, Any] | None = Field(
        default=None,
        json_schema_extra=FREE_FORM,
        description='JSON Schema of the request body, e.g. {"type": "object", "properties": …}.',
    )
    output_params: dict[str, Any] | None = Field(
        default=None,
        json_schema_extra=FREE_FORM,
        description="JSON Schema of the response body.",
    )


class ModelDoc(CrdModel):
    """A documentation link of the model."""

    doc_name: str = Field(
        min_length=1,
        max_length=48,
        pattern="^[A-Za-z\u4e00-\u9fa5][A-Za-z0-9_\u4e00-\u9fa5-]{0,47}$",
        description=(
            "Document name: 1-48 letters, Chinese characters, digits, - or _, starting with a "
            "letter or Chinese character."
        ),
    )
    doc_url: str = Field(
        min_length=1,
        max_length=2048,
        pattern=r"^https?://",
        description="HTTP(S) link to the document.",
    )


class TemplateInput(CrdModel):
    """An input of a model template."""

    input: str = Field(
        min_length=1, max_length=MAX_PATH, description="OBS file or directory for this input."
    )
    input_id: str = Field(
        min_length=1, max_length=MAX_ID, description="Input ID from the template details."
    )


class ModelTemplate(CrdModel):
    """Template configuration; required when modelType is Template."""

    template_id: str = Field(min_length=1, max_length=MAX_ID, description="Template ID.")
    template_inputs: list[TemplateInput] = Field(
        min_length=1, max_length=8, description="Template inputs (at most 8: size budget)."
    )
    infer_format: str | None = Field(
        default=None,
        max_length=MAX_ID,
        description="Input/output mode overriding the template's built-in one.",
    )


class LlmModel(CrdModel):
    """A DataArts Fabric LLM model (``/v1/workspaces/{workspace_id}/models``)."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "self.workspaceId == oldSelf.workspaceId",
                "llm.workspaceId is immutable (the model lives in that workspace)",
                field_path=".workspaceId",
                reason="FieldValueForbidden",
            ),
            cel(
                "(has(self.name) ? self.name : '') == (has(oldSelf.name) ? oldSelf.name : '')",
                "llm.name is immutable (the operator finds its model by this name)",
                field_path=".name",
                reason="FieldValueForbidden",
            ),
            cel(
                "self.version == oldSelf.version || self.version.name != oldSelf.version.name",
                "a changed llm.version needs a new version.name (DataArts adds versions and "
                "never changes one)",
                field_path=".version.name",
                reason="FieldValueForbidden",
            ),
        )
    )

    workspace_id: str = Field(
        min_length=1,
        max_length=36,
        pattern=r"^[A-Za-z0-9-]{1,36}$",
        description="DataArts Fabric workspace ID: 1-36 letters, digits or -.",
    )
    name: str | None = sdk_field(
        vocab.CreateModelInput,
        "name",
        description=(
            "Model name: 1-64 letters, Chinese characters, digits, -, _, . or spaces. Unset: a "
            "deterministic name derived from namespace and object name."
        ),
    )
    description: str | None = sdk_field(
        vocab.CreateModelInput, "description", description="Model description, 0-1024 characters."
    )
    type: Literal["LLM_MODEL"] = Field(
        default="LLM_MODEL", description="Model type; only LLM_MODEL."
    )
    version: vocab.ModelVersionInput = Field(
        description=(
            "The version that should be current: the first is created with the model; a "
            "changed version (under a new name: DataArts never changes a version) is added and "
            "becomes current once built. Naming an older version again makes it current again."
        )
    )


IMPORT_FIELDS = (
    "modelName",
    "modelVersion",
    "sourceLocation",
    "sourceJobId",
    "sourceJobVersion",
    "modelType",
    "trainingJobRef",
    "runtime",
    "executionCode",
    "inputParams",
    "outputParams",
    "dependencies",
    "apis",
    "initialConfig",
    "modelDocs",
    "template",
)


class ModelSpec(WorkspaceScopedSpec):
    """Desired state of an imported model (immutable: a new version is a new Model) or of a
    DataArts Fabric LLM model (``llm``)."""

    model_config = ConfigDict(
        json_schema_extra=validations(
            cel(
                "has(self.llm) == has(oldSelf.llm)",
                "a Model cannot change between the import form and llm",
                field_path=".llm",
                reason="FieldValueForbidden",
            ),
            cel(
                "has(self.llm) || self == oldSelf",
                "Model spec is immutable; create a new Model for a new version",
                reason="FieldValueForbidden",
            ),
            *WORKSPACE_RULES,
            cel(
                "has(self.llm) || (has(self.modelVersion) && has(self.modelType))",
                "modelVersion and modelType are required (unless llm is set)",
                field_path=".modelVersion",
                reason="FieldValueRequired",
            ),
            cel(
                "has(self.llm) || (has(self.sourceLocation) != has(self.trainingJobRef))",
                "exactly one of sourceLocation or trainingJobRef is required",
                field_path=".sourceLocation",
            ),
            cel(
                "!has(self.trainingJobRef) || "
                "(!has(self.sourceJobId) && !has(self.sourceJobVersion))",
                "sourceJobId and sourceJobVersion come from trainingJobRef; do not set them too",
                field_path=".trainingJobRef",
            ),
            cel(
                "!has(self.llm) || !(" + " || ".join(f"has(self.{f})" for f in IMPORT_FIELDS) + ")",
                "llm (a DataArts Fabric model) cannot be combined with ModelArts import fields",
                field_path=".llm",
            ),
            cel(
                "!has(self.llm) || (!has(self.workspaceRef) && !has(self.workspaceId))",
                "llm names its DataArts workspace in llm.workspaceId",
                field_path=".llm",
            ),
            cel(
                "(has(self.modelType) && self.modelType == 'Template') == has(self.template)",
                "template is required exactly when modelType is Template",
                field_path=".template",
            ),
        )
    )

    model_name: str | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        pattern=MODEL_NAME_PATTERN,
        description=(
            "Model name in ModelArts: 1-64 letters, digits, Chinese characters, - or _. "
            "Unset: a deterministic name derived from namespace and object name."
        ),
    )
    model_version: str | None = Field(
        default=None,
        max_length=8,
        pattern=MODEL_VERSION_PATTERN,
        description=(
            "Model version, Digit.Digit.Digit with parts 0-99 and no leading zero, e.g. 1.0.0. "
            "Required unless llm is set."
        ),
    )
    source_location: str | None = Field(
        default=None,
        min_length=1,
        max_length=MAX_PATH,
        description=(
            "OBS path of the model (a directory holding a non-empty model directory, ending "
            "with /), or the SWR image address. Exclusive with trainingJobRef."
        ),
    )
    training_job_ref: LocalObjectReference | None = Field(
        default=None,
        description=(
            "TrainingJob in the same namespace to import from: the model's sourceLocation, "
            "source job ID and version come from that job once it completed. Exclusive with "
            "sourceLocation."
        ),
    )
    source_job_id: str | None = Field(
        default=None,
        max_length=MAX_ID,
        description="ID of the training job that produced the model (for tracing only).",
    )
    source_job_version: str | None = Field(
        default=None,
        max_length=MAX_ID,
        description="Version of that training job (for tracing only).",
    )
    source_type: Literal["auto"] | None = Field(
        default=None,
        description="auto marks an ExeML model (cannot be downloaded); unset otherwise.",
    )
    model_type: ModelType | None = Field(
        default=None,
        description=(
            "Model type: TensorFlow, MXNet, Caffe, Spark_MLlib, Scikit_Learn, XGBoost, Image, "
            "PyTorch, MindSpore or Template. Required unless llm is set."
        ),
    )
    runtime: str | None = Field(
        default=None,
        max_length=64,
        description="Model runtime, e.g. python3.6 or tf1.13-python3.6-cpu; depends on modelType.",
    )
    description: str | None = Field(
        default=None,
        max_length=OWN_TEXT_100,
        pattern=NO_SPECIALS,
        description=(
            "Model description: at most 71 characters, none of &!'\"<>= (the API's 100 less "
            "the operator's ownership marker, which follows it remotely)."
        ),
    )
    model_algorithm: str | None = Field(
        default=None,
        max_length=36,
        pattern="^[A-Za-z][^&!'\"<>=\u4e00-\u9fa5]*$",
        description=(
            "Model algorithm, e.g. image_classification, object_detection, predict_analysis: "
            "starts with a letter, at most 36 characters, no Chinese or &!'\"<>=. Unset: read "
            "from the model's config file."
        ),
    )
    execution_code: str | None = Field(
        default=None,
        max_length=MAX_PATH,
        description=(
            "OBS path of the inference code customize_service.py (in the model directory). "
            "Unset: detected automatically."
        ),
    )
    input_params: list[ModelParam] | None = Field(
        default=None,
        max_length=16,  # operator size budget
        description="Input parameters of the inference API.",
    )
    output_params: list[ModelParam] | None = Field(
        default=None,
        max_length=16,  # operator size budget
        description="Output parameters of the inference API.",
    )
    dependencies: list[ModelDependency] | None = Field(
        default=None,
        max_length=2,  # operator size budget (the only installer is pip)
        description="Packages the inference code needs. Unset: read from the config file.",
    )
    model_metrics: ModelMetrics | None = Field(
        default=None,
        description=(
            "Model precision (f1, recall, precision, accuracy), sent to ModelArts as the JSON "
            "string model_metrics. Unset: read from the config file."
        ),
    )
    apis: list[ModelApi] | None = Field(
        default=None,
        max_length=8,  # operator size budget
        description="Inference APIs with their input and output schemas.",
    )
    initial_config: str | None = Field(
        default=None,
        max_length=16384,  # operator size budget
        description=(
            "The model's config file (config.json) as a string; the recommended way to give "
            "apis, dependencies and parameters."
        ),
    )
    model_docs: list[ModelDoc] | None = Field(
        default=None, max_length=3, description="Documentation links (at most 3)."
    )
    install_type: list[InstallType] | None = Field(
        default=None,
        max_length=3,
        json_schema_extra={"x-kubernetes-list-type": "set"},
        description=(
            "Service types the model may be deployed as: real-time, edge, batch. Unset: all."
        ),
    )
    template: ModelTemplate | None = Field(
        default=None, description="Template configuration; required with modelType Template."
    )
    llm: LlmModel | None = Field(
        default=None,
        description=(
            "Create a DataArts Fabric LLM model instead of importing a ModelArts model; "
            "exclusive with the import fields."
        ),
    )


class ModelSource(CrdModel):
    """Where the imported model came from, as recorded by ModelArts."""

    location: str | None = Field(
        default=None, max_length=MAX_PATH, description="source_location of the model."
    )
    job_id: str | None = Field(
        default=None, max_length=MAX_ID, description="ID of the source training job."
    )
    job_version: str | None = Field(
        default=None, max_length=MAX_ID, description="Version of the source training job."
    )
    training_job: str | None = Field(
        default=None,
        max_length=253,
        description="Name of the TrainingJob object the source was resolved from.",
    )


class LlmVersionStatus(CrdModel):
    """A DataArts Fabric model version as the model list shows it."""

    id: str | None = Field(default=None, max_length=MAX_ID, description="Version ID.")
    name: str | None = Field(default=None, max_length=64, description="Version name.")
    create_time: datetime | None = Field(default=None, description="When the version was created.")


class ModelStatus(CommonStatus):
    """Observed state of the imported model."""

    model_id: str | None = Field(
        default=None, max_length=MAX_ID, description="ModelArts model ID (or DataArts model ID)."
    )
    version_id: str | None = Field(
        default=None,
        max_length=MAX_ID,
        description="ID of the DataArts Fabric version spec.llm.version names (llm).",
    )
    version_name: str | None = Field(
        default=None,
        max_length=64,
        description="The version name versionId belongs to (llm): a different spec name is "
        "a version still to add.",
    )
    current_version: LlmVersionStatus | None = Field(
        default=None,
        description="The model's current version in DataArts (llm); it is the spec's once built.",
    )
    model_version: str | None = Field(
        default=None, max_length=16, description="Version as stored by ModelArts."
    )
    model_type: str | None = Field(
        default=None, max_length=32, description="Model type as stored by ModelArts."
    )
    model_size: int | None = Field(default=None, ge=0, description="Model size in bytes.")
    install_type: list[str] | None = Field(
        default=None, max_length=8, description="Service types the model can be deployed as."
    )
    image_address: str | None = Field(
        default=None, max_length=MAX_PATH, description="Image produced by packaging the model."
    )
    source: ModelSource | None = Field(
        default=None, description="Where the model was imported from."
    )


PRINTER_COLUMNS: list[dict[str, Any]] = [
    {"name": "Phase", "type": "string", "jsonPath": ".status.phase"},
    {"name": "Model-ID", "type": "string", "jsonPath": ".status.modelId"},
    {"name": "Version", "type": "string", "jsonPath": ".spec.modelVersion"},
    {"name": "Type", "type": "string", "jsonPath": ".spec.modelType"},
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    {"name": "Source", "type": "string", "jsonPath": ".status.source.location", "priority": 1},
    {
        "name": "LLM-Version",
        "type": "string",
        "jsonPath": ".status.currentVersion.name",
        "priority": 1,
    },
]


CRD = KindInfo(
    kind=KIND,
    plural=PLURAL,
    short_names=SHORT_NAMES,
    spec=ModelSpec,
    status=ModelStatus,
    printer_columns=PRINTER_COLUMNS,
    description=(
        "Model is a model imported into ModelArts (from OBS, an image or a TrainingJob), "
        "or with spec.llm a DataArts Fabric LLM model. The import form is immutable; the llm "
        "form's description and version change in place. Ready when published."
    ),
)
