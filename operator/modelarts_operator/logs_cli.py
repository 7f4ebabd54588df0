"""``modelarts-operator logs trainingjob/NAME`` (and ``kubectl modelarts logs ...``): the log
of a training job's task, where people look for it.

The TrainingJob is read with the caller's kubeconfig (as kubectl would) for its ModelArts job
ID; ``--job-id`` skips the cluster. ModelArts credentials come from ``MODELARTS_AK`` +
``MODELARTS_SK`` (or ``MODELARTS_USERNAME`` + ``MODELARTS_PASSWORD`` + ``MODELARTS_DOMAIN``)
with ``MODELARTS_PROJECT_ID``, else from the Secret the operator would use for the namespace.
A v2 job (UUID ID) is read through the v2 log API, a v1 job (numeric ID) through the v1 one.

Without flags the whole log is printed (the preview API: up to 5 MB, the newest part of a
bigger log); ``--tail N`` prints the newest N lines; ``--follow`` keeps printing new lines
until the job has ended, waiting for a job whose log does not exist yet.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import sys
from collections.abc import Awaitable, Callable, Coroutine
from dataclasses import dataclass
from typing import Any, Protocol, TextIO

from . import GROUP, VERSION
from .api import AkSkCredentials, ClientConfig, ModelArtsClient, PasswordCredentials, errors
from .api.training_v2 import TERMINAL_PHASES

AOM_MAX_LINES = 500
KINDS = {"trainingjob", "trainingjobs", "matj", f"trainingjob.{GROUP}", f"trainingjobs.{GROUP}"}
V1_TERMINAL = {3, 5, 6, 10, 11, 12, 13, 14, 16, 17, 21}
V1_PHASES = {7: "Pending", 8: "Running", 9: "Terminating", 10: "Completed", 11: "Failed"}
NOT_READY_HINT = "run the command again once the job runs, or add --follow to wait for it"


class LogsError(Exception):
    """A failure to explain to the user in one sentence (printed without a traceback)."""


@dataclass
class Chunk:
    """Log lines from the line API and the cursors around them."""

    text: str
    count: int
    start: str | None
    end: str | None


class LogSource(Protocol):
    """One task's log, through the v1 or the v2 API."""

    job_id: str

    async def phase(self) -> tuple[str, bool]:
        """(phase for people, whether the job has ended)."""
        ...

    async def whole(self) -> str: ...

    async def newest(self, lines: int) -> Chunk: ...

    async def before(self, cursor: str, lines: int) -> Chunk: ...

    async def after(self, cursor: str, lines: int) -> Chunk: ...


class V2Source:
    def __init__(self, client: ModelArtsClient, job_id: str, task: str) -> None:
        self._jobs = client.training_jobs_v2
        self.job_id = job_id
        self.task = task

    async def check_task(self) -> None:
        job = await self._jobs.get(self.job_id)
        tasks = job.status.tasks
        if tasks and self.task not in tasks:
            raise LogsError(
                f"training job {self.job_id} has no task {self.task!r}; its tasks: "
                + ", ".join(tasks)
            )

    async def phase(self) -> tuple[str, bool]:
        phase = (await self._jobs.get(self.job_id)).phase or "Unknown"
        return phase, phase in TERMINAL_PHASES

    async def whole(self) -> str:
        return (await self._jobs.logs_preview(self.job_id, self.task)).text

    async def _lines(self, **query: Any) -> Chunk:
        got = await self._jobs.aom_logs(self.job_id, self.task, **query)
        return Chunk(got.content or "", got.lines or 0, got.start_line, got.end_line)

    async def newest(self, lines: int) -> Chunk:
        return await self._lines(lines=lines)

    async def before(self, cursor: str, lines: int) -> Chunk:
        return await self._lines(base_line=cursor, lines=lines, order="asc")

    async def after(self, cursor: str, lines: int) -> Chunk:
        return await self._lines(base_line=cursor, lines=lines, order="desc")


class V1Source:
    """A 2020-API job: ``worker-N`` is the version's N-th log file."""

    def __init__(self, client: ModelArtsClient, job_id: int, version_id: int, task: str) -> None:
        self._jobs = client.training_jobs
        self.job_id = str(job_id)
        self._ids = (job_id, version_id)
        self.task = task
        self._file: str | None = None

    async def check_task(self) -> None:
        files = await self._jobs.log_file_names(*self._ids)
        match = re.fullmatch(r"worker-(\d+)", self.task)
        index = int(match.group(1)) if match else -1
        if not 0 <= index < len(files):
            tasks = ", ".join(f"worker-{i}" for i in range(len(files)))
            raise LogsError(
                f"training job {self.job_id} has no task {self.task!r}; its tasks: {tasks}"
            )
        self._file = files[index]

    async def phase(self) -> tuple[str, bool]:
        status = (await self._jobs.get_version(*self._ids)).status
        code = int(status) if status is not None else 0
        return V1_PHASES.get(code, f"status {code}"), code in V1_TERMINAL

    async def _lines(self, **query: Any) -> Chunk:
        assert self._file is not None
        got = await self._jobs.aom_logs(*self._ids, self._file, **query)
        return Chunk(got.content or "", got.lines or 0, got.start_line, got.end_line)

    async def whole(self) -> str:
        parts: list[str] = []
        chunk = await self.newest(AOM_MAX_LINES)
        while chunk.count:
            parts.insert(0, chunk.text)
            if chunk.count < AOM_MAX_LINES or chunk.start is None:
                break
            chunk = await self.before(chunk.start, AOM_MAX_LINES)
        return "".join(parts)

    async def newest(self, lines: int) -> Chunk:
        return await self._lines(lines=lines)

    async def before(self, cursor: str, lines: int) -> Chunk:
        return await self._lines(base_line=cursor, lines=lines, order="asc")

    async def after(self, cursor: str, lines: int) -> Chunk:
        return await self._lines(base_line=cursor, lines=lines, order="desc")


async def tail(source: LogSource, count: int) -> Chunk:
    """The newest ``count`` lines, read backwards in pages of at most 500."""
    asked = min(count, AOM_MAX_LINES)
    chunk = await source.newest(asked)
    texts, total, start, end = [chunk.text], chunk.count, chunk.start, chunk.end
    while total < count and chunk.count == asked and start is not None:
        asked = min(count - total, AOM_MAX_LINES)  # a full page: older lines may wait
        chunk = await source.before(start, asked)
        if not chunk.count:
            break
        texts.insert(0, chunk.text)
        total, start = total + chunk.count, chunk.start
    return Chunk("".join(texts), total, start, end)


def explain(
    err: errors.ModelArtsError, source: LogSource, phase: tuple[str, bool] | None = None
) -> LogsError:
    """One sentence for each way a log can be unavailable (``phase``: what ``source.phase``
    said, for "not ready" answers)."""
    code = err.error_code or f"HTTP {err.status}"
    job = f"training job {source.job_id}"
    if isinstance(err, errors.NotReady):
        if phase is not None and phase[1]:
            return LogsError(f"{job} ended ({phase[0]}) before its tasks wrote a log [{code}]")
        state = f" (the job is {phase[0]})" if phase else ""
        return LogsError(f"the logs of {job} are not ready yet{state} [{code}]: {NOT_READY_HINT}")
    if code in ("ModelArts.2820", "ModelArts.2822"):
        return LogsError(
            f"{job} has no log export path (spec.log_export_path) [{code}]: ModelArts keeps the "
            "logs of a finished job only there; set it on the next job"
        )
    if code == "ModelArts.2819":
        return LogsError(f"the logs of {job} were cleared [{code}]")
    if isinstance(err, errors.NotFound):
        return LogsError(f"{job} does not exist in ModelArts [{code}]")
    return LogsError(f"reading the logs of {job} failed: {err}")


Sleep = Callable[[float], Awaitable[None]]


async def follow(
    source: LogSource, out: TextIO, err: TextIO, *, lines: int, interval: float, sleep: Sleep
) -> None:
    """Print the newest ``lines``, then every new line until the job has ended."""
    cursor: str | None = None
    waiting_said = False
    while True:
        try:
            if cursor is None:
                chunk = await tail(source, lines)
                cursor = chunk.end if chunk.count else None
            else:
                chunk = await source.after(cursor, AOM_MAX_LINES)
                cursor = chunk.end or cursor
        except errors.NotReady:
            phase, ended = await source.phase()
            if ended:
                raise
            if not waiting_said:
                err.write(f"waiting for the logs of training job {source.job_id} ({phase})...\n")
                err.flush()
                waiting_said = True
            await sleep(interval)
            continue
        out.write(chunk.text)
        out.flush()
        if chunk.count >= AOM_MAX_LINES:
            continue  # more is waiting: read on at once
        phase, ended = await source.phase()
        if ended:
            if cursor is not None:  # the last lines written while the job ended
                last = await source.after(cursor, AOM_MAX_LINES)
                out.write(last.text)
                out.flush()
            return
        await sleep(interval)


# ------------------------------------------------------------------------------ wiring
def parse_target(target: str) -> str:
    """``trainingjob/NAME`` (or ``matj/NAME``, or just ``NAME``) -> NAME."""
    kind, sep, name = target.rpartition("/")
    if sep and kind.lower() not in KINDS:
        raise LogsError(f"only training jobs have logs: use trainingjob/NAME, not {target!r}")
    if not name:
        raise LogsError("name the training job: trainingjob/NAME")
    return name


def _env_credentials(environ: dict[str, str]) -> AkSkCredentials | PasswordCredentials | None:
    if environ.get("MODELARTS_AK") and environ.get("MODELARTS_SK"):
        return AkSkCredentials(
            ak=environ["MODELARTS_AK"],
            sk=environ["MODELARTS_SK"],
            security_token=environ.get("MODELARTS_SECURITY_TOKEN") or None,
        )
    if all(environ.get(f"MODELARTS_{k}") for k in ("USERNAME", "PASSWORD", "DOMAIN")):
        return PasswordCredentials(
            username=environ["MODELARTS_USERNAME"],
            password=environ["MODELARTS_PASSWORD"],
            domain=environ["MODELARTS_DOMAIN"],
        )
    return None


def client_from_env(environ: dict[str, str]) -> ModelArtsClient | None:
    """A client from ``MODELARTS_*`` variables, or None when they hold no credentials."""
    from .settings import OperatorSettings

    credentials = _env_credentials(environ)
    if credentials is None:
        return None
    settings = OperatorSettings.from_env(environ)
    if not settings.project_id:
        raise LogsError("MODELARTS_PROJECT_ID is needed with credentials from the environment")
    config = ClientConfig(
        project_id=settings.project_id,
        region=settings.region,
        endpoint=settings.endpoint,
        iam_endpoint=settings.iam_endpoint,
        ca_bundle=settings.ca_bundle,
    )
    return ModelArtsClient(config, credentials)


class Session:
    """The cluster and the cloud one command talks to, opened when first needed and closed
    together: the cluster with the caller's kubeconfig (as kubectl would), ModelArts with the
    ``MODELARTS_*`` variables or else the Secret the operator uses for the namespace. The
    other ``kubectl modelarts`` commands that read ModelArts (``remote_cli``) use it too.
    ``kube`` and ``client`` replace the cluster and the cloud in tests."""

    def __init__(
        self,
        kubeconfig: str | None,
        environ: dict[str, str],
        kube: Any = None,
        client: ModelArtsClient | None = None,
    ) -> None:
        self.kubeconfig = kubeconfig
        self.environ = environ
        self._kube = kube
        self._client = client
        self._own: list[Any] = []
        if client is None:
            self._client = client_from_env(environ)
            if self._client is not None:
                self._own.append(self._client)

    @property
    def has_client(self) -> bool:
        return self._client is not None

    def cluster(self) -> Any:
        if self._kube is None:
            from .reconcile.kube import KubeClient

            self._kube = KubeClient.from_environment(self.kubeconfig)
            self._own.append(self._kube)
        return self._kube

    async def cloud(self, namespace: str) -> ModelArtsClient:
        if self._client is None:
            self._client = await _client_for_namespace(self.cluster(), namespace, self.environ)
            self._own.append(self._client)
        return self._client

    async def read(self, plural: str, namespace: str, name: str) -> dict[str, Any]:
        """One of the operator's objects; a clear error when it is missing or unreadable."""
        from .reconcile.kube import KubeError

        what = f"{plural.removesuffix('s')} {namespace}/{name}"
        try:
            obj: dict[str, Any] = await self.cluster().get(
                f"/apis/{GROUP}/{VERSION}/namespaces/{namespace}/{plural}/{name}"
            )
        except KubeError as err:
            if err.status == 404:
                raise LogsError(f"{what} not found") from None
            raise LogsError(f"reading {what} failed: {err}") from None
        return obj

    async def aclose(self) -> None:
        for thing in reversed(self._own):
            await thing.aclose()


async def _job_ids(session: Session, namespace: str, name: str) -> tuple[str | int, int | None]:
    status = (await session.read("trainingjobs", namespace, name)).get("status") or {}
    job_id = status.get("jobId")
    if job_id in (None, ""):
        phase = status.get("phase") or "not reconciled yet"
        raise LogsError(
            f"trainingjob {namespace}/{name} has no ModelArts job yet ({phase}): wait until it "
            "is created, or pass --job-id"
        )
    return job_id, status.get("versionId")


def _source(client: ModelArtsClient, job_id: str | int, version_id: Any, task: str) -> Any:
    text = str(job_id)
    if text.isdigit():
        if version_id is None:
            raise LogsError(f"v1 training job {text} needs its version: status.versionId is empty")
        return V1Source(client, int(text), int(version_id), task)
    return V2Source(client, text, task)


async def run_logs(
    args: argparse.Namespace,
    *,
    out: TextIO,
    err: TextIO,
    environ: dict[str, str],
    kube: Any = None,
    client: ModelArtsClient | None = None,
    sleep: Sleep = asyncio.sleep,
) -> None:
    """The command; ``kube`` and ``client`` replace the cluster and the cloud in tests."""
    session = Session(args.kubeconfig, environ, kube, client)
    try:
        name = parse_target(args.target) if args.target else None
        if args.job_id is None and name is None:
            raise LogsError("name the training job (trainingjob/NAME) or pass --job-id")
        from .reconcile.kube import context_namespace

        namespace = args.namespace or context_namespace(args.kubeconfig)
        job_id, version_id = args.job_id, args.version_id
        if job_id is None:
            assert name is not None
            job_id, version_id = await _job_ids(session, namespace, name)
        source = _source(await session.cloud(namespace), job_id, version_id, args.task)
        await _print(source, args, out, err, sleep)
    finally:
        await session.aclose()


async def _client_for_namespace(
    kube: Any, namespace: str, environ: dict[str, str]
) -> ModelArtsClient:
    """The client the operator would use for ``namespace`` (its Secret, project, region)."""
    from .reconcile.credentials import ClientFactory, CredentialsError
    from .settings import OperatorSettings

    try:
        return await ClientFactory(OperatorSettings.from_env(environ), kube).for_namespace(
            namespace
        )
    except CredentialsError as exc:
        raise LogsError(f"no ModelArts credentials: {exc}") from None


async def _print(
    source: Any, args: argparse.Namespace, out: TextIO, err: TextIO, sleep: Sleep
) -> None:
    try:
        await source.check_task()
        if args.follow:
            await follow(
                source, out, err, lines=args.tail or 100, interval=args.interval, sleep=sleep
            )
        elif args.tail:
            out.write((await tail(source, args.tail)).text)
        else:
            out.write(await source.whole())
    except errors.ModelArtsError as exc:
        phase = await source.phase() if isinstance(exc, errors.NotReady) else None
        raise explain(exc, source, phase) from None


def exit_code(command: Coroutine[Any, Any, None]) -> int:
    """Run one command (this one, or a ``remote_cli`` one) to its exit code: 1 after the
    one-sentence error, 130 on Ctrl-C."""
    try:
        asyncio.run(command)
    except LogsError as exc:
        sys.stderr.write(f"error: {exc}\n")
        return 1
    except KeyboardInterrupt:
        return 130
    return 0


def run(args: argparse.Namespace) -> int:
    return exit_code(run_logs(args, out=sys.stdout, err=sys.stderr, environ=dict(os.environ)))


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("target", nargs="?", help="trainingjob/NAME (or matj/NAME, or NAME)")
    parser.add_argument("-n", "--namespace", help="namespace (default: the kubeconfig context's)")
    parser.add_argument("--task", default="worker-0", help="task to read (default worker-0)")
    parser.add_argument("-f", "--follow", action="store_true", help="print new lines as they come")
    parser.add_argument(
        "--tail", type=int, metavar="N", help="only the newest N lines (--follow: default 100)"
    )
    parser.add_argument("--job-id", help="the ModelArts job ID, instead of reading the object")
    parser.add_argument("--version-id", type=int, help="with a v1 --job-id: its version ID")
    parser.add_argument("--kubeconfig", help="kubeconfig file (default: $KUBECONFIG, ~/.kube)")
    parser.add_argument(
        "--interval", type=float, default=5.0, help="--follow: seconds between reads (default 5)"
    )
    parser.set_defaults(func=run)


def add_parser(sub: Any) -> None:
    parser = sub.add_parser(
        "logs",
        help="print the log of a training job's task",
        description=(__doc__ or "").split("\n\n", 1)[1],
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_arguments(parser)
