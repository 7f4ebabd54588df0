"""ModelArts API client: typed endpoints over one retrying, rate-limited, signing base client.

    from modelarts_operator.api import ModelArtsClient, ClientConfig, AkSkCredentials, errors
    config = ClientConfig(endpoint="https://modelarts.cn-north-4.myhuaweicloud.com",
                          project_id="...", region="cn-north-4", qps=20.0, burst=40,
                          on_call=metrics_hook)
    async with ModelArtsClient(config, AkSkCredentials(ak="...", sk="...")) as client:
        job = await client.training_jobs.create(TrainingJobCreateRequest(...))
        async for model in client.models.iter_all(): ...

Families: ``client.workspaces``, ``client.training_jobs``, ``client.models``,
``client.services``, ``client.services_v2``, ``client.notebooks``, ``client.dataarts``.
``list`` returns one page; ``iter_*`` iterates all. The request and answer models of the newer
families are imported from their modules (``api.services_v2``, ``api.notebooks``).

Errors: every failure is an ``errors.ModelArtsError`` (``status``, ``error_code``,
``error_msg``, ``request_id``, ``retryable``) of one class: NotFound, AlreadyExists,
QuotaExceeded, InvalidParameter, Throttled (``retry_after``), StateConflict, AuthFailed,
Forbidden, ServerError (TransportError), Ambiguous. ``Ambiguous`` comes only from a create
whose outcome is unknown: look the name up, never re-send.

Metrics hook: ``ClientConfig(on_call=f)``; ``f(endpoint_name, method, status_or_None,
seconds)`` is called once per HTTP attempt (``endpoint_name`` like ``models.create``;
status None when no HTTP answer arrived). Exceptions raised by the hook are logged, ignored.
"""

from __future__ import annotations

from . import errors
from .auth import AkSkCredentials, AkSkSigner, Credentials, PasswordCredentials
from .base import ApiResponse, BaseClient, ClientConfig, OnCall
from .client import ModelArtsClient
from .dataarts import (
    DataArtsModelCreated,
    DataArtsModelCreateRequest,
    LlmModelConfig,
    ModelConfig,
    ModelVersionInput,
)
from .errors import (
    AlreadyExists,
    Ambiguous,
    AuthFailed,
    Forbidden,
    InvalidParameter,
    ModelArtsError,
    NotFound,
    QuotaExceeded,
    ServerError,
    StateConflict,
    Throttled,
    TransportError,
)
from .identity import IdentityError, TemporaryIdentity
from .models import (
    ModelApi,
    ModelDeleteResult,
    ModelDependency,
    ModelDetail,
    ModelDoc,
    ModelImported,
    ModelImportRequest,
    ModelList,
    ModelPackage,
    ModelParam,
    ModelSummary,
    ModelTemplate,
    TemplateInput,
)
from .redact import redact
from .services import (
    ServiceConfig,
    ServiceDeployed,
    ServiceDeployRequest,
    ServiceDetail,
    ServiceEventList,
    ServiceList,
    ServiceMonitor,
    ServiceSchedule,
    ServiceSpecificationList,
    ServiceSummary,
    ServiceUpdateLogList,
    ServiceUpdateRequest,
)
from .training_jobs import (
    JOBSTAT,
    DataSource,
    JobParameter,
    TrainingJobConfig,
    TrainingJobCreated,
    TrainingJobCreateRequest,
    TrainingJobList,
    TrainingJobSummary,
    TrainingJobVersion,
    TrainingJobVersionList,
    TrainingVersionConfig,
    TrainingVersionCreated,
    TrainingVersionCreateRequest,
    Volume,
)
from .workspaces import (
    Workspace,
    WorkspaceCreateRequest,
    WorkspaceGrant,
    WorkspaceGrantRequest,
    WorkspaceList,
    WorkspaceQuotaList,
    WorkspaceUpdateRequest,
)

__all__ = [
    "JOBSTAT",
    "AkSkCredentials",
    "AkSkSigner",
    "AlreadyExists",
    "Ambiguous",
    "ApiResponse",
    "AuthFailed",
    "BaseClient",
    "ClientConfig",
    "Credentials",
    "DataArtsModelCreateRequest",
    "DataArtsModelCreated",
    "DataSource",
    "Forbidden",
    "IdentityError",
    "InvalidParameter",
    "JobParameter",
    "LlmModelConfig",
    "ModelApi",
    "ModelArtsClient",
    "ModelArtsError",
    "ModelConfig",
    "ModelDeleteResult",
    "ModelDependency",
    "ModelDetail",
    "ModelDoc",
    "ModelImportRequest",
    "ModelImported",
    "ModelList",
    "ModelPackage",
    "ModelParam",
    "ModelSummary",
    "ModelTemplate",
    "ModelVersionInput",
    "NotFound",
    "OnCall",
    "PasswordCredentials",
    "QuotaExceeded",
    "ServerError",
    "ServiceConfig",
    "ServiceDeployRequest",
    "ServiceDeployed",
    "ServiceDetail",
    "ServiceEventList",
    "ServiceList",
    "ServiceMonitor",
    "ServiceSchedule",
    "ServiceSpecificationList",
    "ServiceSummary",
    "ServiceUpdateLogList",
    "ServiceUpdateRequest",
    "StateConflict",
    "TemplateInput",
    "TemporaryIdentity",
    "Throttled",
    "TrainingJobConfig",
    "TrainingJobCreateRequest",
    "TrainingJobCreated",
    "TrainingJobList",
    "TrainingJobSummary",
    "TrainingJobVersion",
    "TrainingJobVersionList",
    "TrainingVersionConfig",
    "TrainingVersionCreateRequest",
    "TrainingVersionCreated",
    "TransportError",
    "Volume",
    "Workspace",
    "WorkspaceCreateRequest",
    "WorkspaceGrant",
    "WorkspaceGrantRequest",
    "WorkspaceList",
    "WorkspaceQuotaList",
    "WorkspaceUpdateRequest",
    "errors",
    "redact",
]
