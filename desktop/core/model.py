"""The data Restyle works with: assets, job specs, jobs, outputs, errors and task descriptions.

Everything here is plain data (dataclasses and enums) so the engine, the store, the CLI and the
window can share it without importing each other.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from enum import StrEnum
from typing import Any

from desktop.core import jsonsafe


class JobState(StrEnum):
    """Where a job is on its way: queued -> ... -> a terminal state."""

    QUEUED = "queued"
    PREPARING = "preparing"
    SUBMITTING = "submitting"
    RUNNING = "running"
    DOWNLOADING = "downloading"
    #: The provider has (or may have) accepted the job, but Restyle cannot go on until
    #: something is fixed: a key, a base URL, a damaged download, a deadline at a provider
    #: that cannot cancel, an answer that never came. Not terminal: resume collects it.
    NEEDS_ATTENTION = "needs_attention"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"
    TIMED_OUT = "timed_out"

    @property
    def terminal(self) -> bool:
        return self in TERMINAL_STATES

    @property
    def title(self) -> str:
        """The state as a word for people: "Preparing inputs", "Timed out"."""
        return _STATE_TITLES[self]


TERMINAL_STATES = frozenset(
    {JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED, JobState.TIMED_OUT}
)

_STATE_TITLES = {
    JobState.QUEUED: "Queued",
    JobState.PREPARING: "Preparing inputs",
    JobState.SUBMITTING: "Submitting",
    JobState.RUNNING: "Running",
    JobState.DOWNLOADING: "Downloading",
    JobState.NEEDS_ATTENTION: "Needs attention",
    JobState.SUCCEEDED: "Succeeded",
    JobState.FAILED: "Failed",
    JobState.CANCELLED: "Cancelled",
    JobState.TIMED_OUT: "Timed out",
}


class ErrorCode(StrEnum):
    """One taxonomy for every provider's errors (docs/ARCHITECTURE.md, "Provider contract"),
    plus local causes."""

    AUTH_FAILED = "auth_failed"
    FORBIDDEN = "forbidden"
    INSUFFICIENT_CREDITS = "insufficient_credits"
    RATE_LIMITED = "rate_limited"
    INVALID_INPUT = "invalid_input"
    NOT_FOUND = "not_found"
    CONFLICT = "conflict"
    PROVIDER_UNAVAILABLE = "provider_unavailable"
    NETWORK = "network"
    TIMED_OUT = "timed_out"
    JOB_FAILED = "job_failed"
    RESULT_UNAVAILABLE = "result_unavailable"
    CANCELLED = "cancelled"
    #: A submit whose answer never came: the provider may have created (and billed) the job.
    UNKNOWN_OUTCOME = "unknown_outcome"
    # Local causes: nothing was wrong on the provider's side.
    MISSING_KEY = "missing_key"
    NOT_CONFIGURED = "not_configured"
    INTERNAL = "internal"

    @property
    def is_setup_problem(self) -> bool:
        """True when the user must fix keys, credits or configuration before trying again."""
        return self in {
            ErrorCode.AUTH_FAILED,
            ErrorCode.FORBIDDEN,
            ErrorCode.INSUFFICIENT_CREDITS,
            ErrorCode.MISSING_KEY,
            ErrorCode.NOT_CONFIGURED,
        }


class RestyleError(Exception):
    """Base class of errors that carry a message meant for the user."""


class InvalidInput(RestyleError):
    """The user's input cannot be used; nothing was submitted."""


@dataclass(frozen=True)
class JobError:
    """Why a job did not succeed: our code, a sentence for the user, the provider's own code."""

    code: ErrorCode
    message: str
    provider_code: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "code": str(self.code),
            "message": self.message,
            "provider_code": self.provider_code,
        }


@dataclass(frozen=True)
class Asset:
    """A file in the content-addressed asset store."""

    sha256: str
    mime: str
    size: int
    width: int | None = None
    height: int | None = None


class OutputKind(StrEnum):
    IMAGE = "image"
    VIDEO = "video"
    FILE = "file"


@dataclass(frozen=True)
class Output:
    """One result of a job, already downloaded into the asset store."""

    position: int
    sha256: str
    mime: str
    size: int
    width: int | None = None
    height: int | None = None
    kind: OutputKind = OutputKind.IMAGE
    label: str = ""


class ParamType(StrEnum):
    STRING = "string"
    INTEGER = "integer"
    NUMBER = "number"
    BOOLEAN = "boolean"
    CHOICE = "choice"
    COLOR = "color"
    POINT = "point"
    JSON = "json"


_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


@dataclass(frozen=True)
class ParamSpec:
    """One parameter of a task, described as data so forms, CLI checks and docs derive from it.

    `name` is the provider's own documented name. `coerce` turns a raw value (a string from the
    command line, or a typed value from a form) into the typed value or raises InvalidInput with
    a sentence naming the parameter.
    """

    name: str
    type: ParamType
    title: str = ""
    default: Any = None
    choices: tuple[Any, ...] = ()
    minimum: float | None = None
    maximum: float | None = None
    required: bool = False
    help: str = ""
    #: For a JSON parameter: it is a list of objects whose fields are these specs (e.g. a
    #: recolour's target + colour rows). Unknown fields in a row are kept as they are.
    rows: tuple[ParamSpec, ...] = ()
    #: For a text parameter: the most characters the provider takes (None: no limit).
    max_length: int | None = None
    #: Names a picker that can fill this parameter from the provider's account (the vtryon
    #: base pose task, a past Virtual Staging AI render): the window offers "Choose…" beside
    #: it. Empty: typed only.
    chooser: str = ""
    #: Names for the choices as people say them ("living" -> "Living room"), as (choice,
    #: name) pairs; a choice without one is shown as it is. The choice itself is what is sent.
    choice_titles: tuple[tuple[Any, str], ...] = ()
    #: Rarely needed (free-form JSON, a webhook, a download mode, a deprecated field, a seed):
    #: a form keeps it in a folded "Advanced" section. Never set on a required parameter.
    advanced: bool = False
    #: The parameter applies only while each named parameter has one of the given values
    #: (("type", ("day-to-dusk",)),): a form hides it otherwise and leaves it out of the job.
    visible_when: tuple[tuple[str, tuple[Any, ...]], ...] = ()
    #: What an empty text field shows as an example (e.g. a JSON shape).
    placeholder: str = ""

    @property
    def label(self) -> str:
        """The name people see: the title, else the name made readable."""
        return self.title or self.name.replace("_", " ").capitalize()

    def choice_title(self, value: Any) -> str:
        """A choice as people say it ("Living room" for "living")."""
        for choice, title in self.choice_titles:
            if choice == value or str(choice) == str(value):
                return title
        if isinstance(value, bool):
            return "Yes" if value else "No"
        return str(value)

    def applies(self, values: Mapping[str, Any], defaults: Mapping[str, Any] | None = None
                ) -> bool:
        """Whether the parameter means something for these values of the others (see
        `visible_when`); a parameter not given counts as its default in `defaults`."""
        for name, allowed in self.visible_when:
            current = values.get(name, (defaults or {}).get(name))
            if not any(current == a or str(current) == str(a) for a in allowed):
                return False
        return True

    def coerce(self, raw: Any) -> Any:
        value = self._convert(raw)
        if self.type == ParamType.STRING and isinstance(value, str):
            if self.required and not value.strip():
                raise InvalidInput(f"Parameter '{self.name}' is required and must not be empty.")
            if self.max_length is not None and len(value) > self.max_length:
                raise InvalidInput(
                    f"Parameter '{self.name}' must be at most {self.max_length} characters long "
                    f"(got {len(value)})."
                )
        if self.choices and value not in self.choices:
            allowed = ", ".join(str(c) for c in self.choices)
            raise InvalidInput(f"Parameter '{self.name}' must be one of: {allowed} (got {raw!r}).")
        if self.type in (ParamType.INTEGER, ParamType.NUMBER):
            if self.minimum is not None and value < self.minimum:
                raise InvalidInput(
                    f"Parameter '{self.name}' must be at least {_num(self.minimum)} (got {value})."
                )
            if self.maximum is not None and value > self.maximum:
                raise InvalidInput(
                    f"Parameter '{self.name}' must be at most {_num(self.maximum)} (got {value})."
                )
        return value

    def _convert(self, raw: Any) -> Any:
        name = self.name
        t = self.type
        if t == ParamType.BOOLEAN:
            if isinstance(raw, bool):
                return raw
            text = str(raw).strip().lower()
            if text in _TRUE:
                return True
            if text in _FALSE:
                return False
            raise InvalidInput(f"Parameter '{name}' must be true or false (got {raw!r}).")
        if t == ParamType.INTEGER:
            if isinstance(raw, bool):
                raise InvalidInput(f"Parameter '{name}' must be a whole number (got {raw!r}).")
            if isinstance(raw, int):
                return raw
            if isinstance(raw, float) and raw.is_integer():
                return int(raw)
            try:
                return int(str(raw).strip())
            except ValueError:
                raise InvalidInput(
                    f"Parameter '{name}' must be a whole number (got {raw!r})."
                ) from None
        if t == ParamType.NUMBER:
            if isinstance(raw, (int, float)) and not isinstance(raw, bool):
                value = float(raw)
            else:
                try:
                    value = float(str(raw).strip())
                except ValueError:
                    raise InvalidInput(
                        f"Parameter '{name}' must be a number (got {raw!r})."
                    ) from None
            if not math.isfinite(value):
                raise InvalidInput(f"Parameter '{name}' must be a finite number (got {raw!r}).")
            return value
        if t == ParamType.POINT:
            return _coerce_point(name, raw)
        if t == ParamType.COLOR:
            from desktop.core.imaging import parse_color  # Pillow stays in imaging.py

            text = str(raw).strip()
            try:
                parse_color(text, what=f"Parameter '{name}'")
            except InvalidInput as exc:
                # A CSS name written as words ("royal blue") names the same colour; the text is
                # kept as typed because some services take colour names as free text.
                compact = "".join(text.split())
                if text.startswith("#") or compact == text:
                    raise
                try:
                    parse_color(compact)
                except InvalidInput:
                    raise exc from None
            return text
        if t == ParamType.JSON:
            try:
                value = jsonsafe.loads(raw) if isinstance(raw, str) else raw
                jsonsafe.check(value)  # a form passes Python values: NaN, deep nesting
            except jsonsafe.JsonProblem as exc:
                reason = str(exc).replace("is not valid JSON", "must be JSON")
                raise InvalidInput(f"Parameter '{name}' {reason}.") from None
            return self._coerce_rows(value) if self.rows else value
        if t == ParamType.CHOICE and self.choices and not isinstance(raw, str):
            return raw
        if t == ParamType.CHOICE and self.choices:
            # Match a choice's text form so '2' selects the integer choice 2.
            for choice in self.choices:
                if str(choice) == str(raw).strip():
                    return choice
            return str(raw).strip()
        if not isinstance(raw, str):
            raise InvalidInput(f"Parameter '{name}' must be text (got {raw!r}).")
        return raw


    def _coerce_rows(self, value: Any) -> list[dict[str, Any]]:
        """A list of objects, each field coerced by its row spec; errors name the row."""
        fields = ", ".join(f"'{f.name}'" for f in self.rows)
        if not isinstance(value, (list, tuple)):
            kind = "a non-empty list" if self.required else "a list"
            raise InvalidInput(
                f"Parameter '{self.name}' must be {kind} of objects with {fields} "
                f"(got {_clip(value)})."
            )
        if self.required and not value:
            raise InvalidInput(
                f"Parameter '{self.name}' needs at least one row (a non-empty list of objects "
                f"with {fields})."
            )
        result: list[dict[str, Any]] = []
        for number, item in enumerate(value, 1):
            where = f"Parameter '{self.name}', row {number}"
            if not isinstance(item, dict):
                raise InvalidInput(
                    f"{where}: must be an object with {fields} (got {_clip(item)})."
                )
            row = dict(item)  # unknown fields are kept as they are
            for spec in self.rows:
                raw = row.get(spec.name)
                if raw is None or (isinstance(raw, str) and not raw.strip()):
                    row.pop(spec.name, None)
                    if spec.required:
                        label = f" ({spec.title})" if spec.title else ""
                        raise InvalidInput(f"{where}: needs a '{spec.name}'{label}.")
                    if spec.default is not None:
                        row[spec.name] = spec.default
                    continue
                try:
                    row[spec.name] = spec.coerce(raw)
                except InvalidInput as exc:
                    raise InvalidInput(_in_row(str(exc), where, spec.name)) from None
            result.append(row)
        return result


def _in_row(message: str, where: str, field_name: str) -> str:
    """Re-home a field's "Parameter 'color' ..." sentence under its row."""
    prefix = f"Parameter '{field_name}'"
    if message.startswith(prefix):
        return f"{where}: '{field_name}'{message[len(prefix):]}"
    return f"{where}: {message}"


def _clip(value: Any, limit: int = 40) -> str:
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _coerce_point(name: str, raw: Any) -> tuple[float, float]:
    """A point as 'x,y' text or a two-item list; values are pixels (>= 1) or fractions (< 1)."""
    if isinstance(raw, str):
        parts = [p.strip() for p in raw.replace(";", ",").split(",")]
    elif isinstance(raw, (list, tuple)):
        parts = list(raw)
    else:
        parts = []
    if len(parts) != 2:
        raise InvalidInput(f"Parameter '{name}' must be a point written as x,y (got {raw!r}).")
    try:
        x, y = float(parts[0]), float(parts[1])
    except (TypeError, ValueError):
        raise InvalidInput(
            f"Parameter '{name}' must be a point written as x,y (got {raw!r})."
        ) from None
    if x < 0 or y < 0 or not (math.isfinite(x) and math.isfinite(y)):
        raise InvalidInput(
            f"Parameter '{name}' must have non-negative coordinates (got {raw!r})."
        )
    return (x, y)


@dataclass(frozen=True)
class InputRole:
    """An input slot of a task: which role, how many images it takes."""

    role: str
    title: str
    min_count: int = 1
    max_count: int = 1
    help: str = ""


@dataclass(frozen=True)
class TaskSpec:
    """What a provider can do, as data: the UI and the CLI build themselves from it."""

    id: str
    title: str
    inputs: tuple[InputRole, ...]
    params: tuple[ParamSpec, ...] = ()
    note: str = ""
    output_kind: OutputKind = OutputKind.IMAGE
    #: When True, parameters not declared in `params` are passed through untouched.
    free_form_params: bool = False
    #: When True, input roles not declared in `inputs` are accepted as they are: the
    #: provider's `check` knows them (a VistoureAI workflow's own image inputs, named after
    #: the workflow's inputs, which only its manifest lists).
    free_form_inputs: bool = False

    def param(self, name: str) -> ParamSpec | None:
        return next((p for p in self.params if p.name == name), None)

    def defaults(self) -> dict[str, Any]:
        """Every parameter's default (those that have one)."""
        return {p.name: p.default for p in self.params if p.default is not None}

    def applicable(self, params: Mapping[str, Any]) -> dict[str, Any]:
        """`params` without the declared parameters that do not apply to the others' values
        (sky when the render type is not day-to-dusk); undeclared names are kept."""
        defaults = self.defaults()
        return {name: value for name, value in params.items()
                if (spec := self.param(name)) is None or spec.applies(params, defaults)}

    def param_errors(self, params: dict[str, Any]) -> list[str]:
        """Every problem with the parameter values alone (inputs are checked by `validate`),
        as sentences; [] when they would pass. Lets a form list them all at once."""
        errors = []
        for spec in self.params:
            if params.get(spec.name) is not None:
                try:
                    spec.coerce(params[spec.name])
                except InvalidInput as exc:
                    errors.append(str(exc))
            elif spec.required and spec.default is None:
                errors.append(f"Task '{self.id}' needs the parameter '{spec.name}'.")
        return errors

    def validate(self, inputs: dict[str, list[str]], params: dict[str, Any]) -> dict[str, Any]:
        """Check input counts and coerce params; return the params with defaults filled in.

        Raises InvalidInput with a sentence that names the problem.
        """
        known_roles = {r.role for r in self.inputs}
        for role, sources in inputs.items():
            if sources and role not in known_roles and not self.free_form_inputs:
                expected = ", ".join(sorted(known_roles)) or "none"
                raise InvalidInput(
                    f"Task '{self.id}' takes no '{role}' input (it takes: {expected})."
                )
        for slot in self.inputs:
            count = len(inputs.get(slot.role, []))
            if count < slot.min_count:
                raise InvalidInput(
                    f"Task '{self.id}' needs {_count_phrase(slot.min_count, slot.role)}"
                    f" (got {count})."
                )
            if count > slot.max_count:
                raise InvalidInput(
                    f"Task '{self.id}' takes at most {_count_phrase(slot.max_count, slot.role)}"
                    f" (got {count})."
                )
        result: dict[str, Any] = {}
        for name, raw in params.items():
            spec = self.param(name)
            if spec is None:
                if not self.free_form_params:
                    known = ", ".join(p.name for p in self.params) or "none"
                    raise InvalidInput(
                        f"Task '{self.id}' has no parameter '{name}' (known: {known})."
                    )
                try:  # sent as it is: it must still be storable and sendable as JSON
                    jsonsafe.check(raw)
                except jsonsafe.JsonProblem as exc:
                    raise InvalidInput(f"Parameter '{name}' {exc}.") from None
                result[name] = raw
            else:
                result[name] = spec.coerce(raw)
        for spec in self.params:
            if spec.name not in result:
                if spec.required:
                    raise InvalidInput(f"Task '{self.id}' needs the parameter '{spec.name}'.")
                if spec.default is not None:
                    result[spec.name] = spec.default
        return result


def _count_phrase(count: int, role: str) -> str:
    return f"{count} {role} image" + ("" if count == 1 else "s")


@dataclass(frozen=True)
class JobSpec:
    """What the user asked for: provider, task, inputs by role (local paths or URLs), params."""

    provider: str
    task: str
    inputs: dict[str, list[str]] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)
    #: Seconds from submission after which the job ends as timed_out; None = provider setting.
    deadline_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "provider": self.provider,
            "task": self.task,
            "inputs": {k: list(v) for k, v in self.inputs.items()},
            "params": self.params,
            "deadline_s": self.deadline_s,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> JobSpec:
        return cls(
            provider=data["provider"],
            task=data["task"],
            inputs={k: list(v) for k, v in (data.get("inputs") or {}).items()},
            params=dict(data.get("params") or {}),
            deadline_s=data.get("deadline_s"),
        )


@dataclass(frozen=True)
class Job:
    """A job as stored in history. Immutable: the engine stores a new version at each change."""

    id: str
    spec: JobSpec
    state: JobState
    created_at: float
    updated_at: float
    remote_id: str | None = None
    #: Provider-specific data needed to poll a remote job (e.g. a status URL); never secrets.
    remote_data: dict[str, Any] = field(default_factory=dict)
    attempts: int = 0
    started_at: float | None = None
    finished_at: float | None = None
    deadline_at: float | None = None
    cost_credits: float | None = None
    error: JobError | None = None
    progress: float | None = None
    inputs: dict[str, list[str]] = field(default_factory=dict)  # role -> asset sha256s
    outputs: tuple[Output, ...] = ()
    favorite: bool = False
    #: A line for the user: "Local preview (no AI)", the provider's status text, ...
    note: str = ""
    #: Which Restyle process works on the job (see core/engine/ledger.py) and until when its
    #: lease runs; None when nobody does (finished, needs attention, or its owner closed).
    owner: str | None = None
    lease_until: float | None = None
    #: Another process asked the owner to cancel this job.
    cancel_requested: bool = False
    #: When the submit was sent (a job list searched sooner after it proves nothing).
    submitted_at: float | None = None
    #: Team mode: the task queue the job waits in for the team's workers (None: the process
    #: that made it runs it). Set when the job is stored, never changed after.
    queue: str | None = None

    @property
    def may_be_charged(self) -> bool:
        """True once the provider may have accepted the job: it has a remote id, or a submit
        was under way whose answer never came."""
        if self.remote_id:
            return True
        if self.error is not None and self.error.code == ErrorCode.UNKNOWN_OUTCOME:
            return True
        return self.state == JobState.SUBMITTING

    @property
    def provider(self) -> str:
        return self.spec.provider

    @property
    def task(self) -> str:
        return self.spec.task

    @property
    def duration_ms(self) -> int | None:
        if self.finished_at is None:
            return None
        start = self.started_at if self.started_at is not None else self.created_at
        return max(0, round((self.finished_at - start) * 1000))

    def evolve(self, **changes: Any) -> Job:
        return replace(self, **changes)


class EventKind(StrEnum):
    STATE = "state"
    PROGRESS = "progress"


@dataclass(frozen=True)
class JobEvent:
    """Sent to observers after the change it describes has been stored."""

    kind: EventKind
    job: Job
    previous_state: JobState | None = None
    message: str = ""
    #: When the engine will try the provider again after a transient failure (rate limit,
    #: outage), as a clock time; lets a UI show a countdown.
    retry_at: float | None = None
    #: The transient failure's code while waiting (e.g. rate_limited); None otherwise.
    error_code: ErrorCode | None = None
