"""Groups of recipients defined in platform code, registered by name (see ``ace_admin.campaigns.audiences``)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from django.core.exceptions import ValidationError

from ace_admin.validators import normalize_language


@dataclass(frozen=True)
class Row:
    """One recipient of an audience."""

    email: str
    lms_user_id: int | str | None = None
    language: str = ""
    context: dict = field(default_factory=dict)

    def as_payload(self) -> dict:
        return {"id": "" if self.lms_user_id in (None, "") else str(self.lms_user_id),
                "email": (self.email or "").strip().lower(), "lang": normalize_language(self.language or ""),
                "ctx": self.context or {}}


@dataclass
class CodeAudience:
    """A registered group: its name, a label for the admin, and the function yielding its ``Row``s."""

    name: str
    label: str
    function: Callable[[dict], Iterable[Row]]
    params_help: str = ""
    required: list[str] = field(default_factory=list)


_registry: dict[str, CodeAudience] = {}


def register(name: str, *, label: str, params_help: str = "", required: Iterable[str] = ()):
    """Decorator registering ``function(params) -> Iterable[Row]`` as the code audience ``name``."""

    def decorate(function):
        if name in _registry and _registry[name].function is not function:
            raise ValueError(f"An audience named {name!r} is already registered ({_registry[name].function!r}).")
        _registry[name] = CodeAudience(name, label, function, params_help, list(required))
        return function

    return decorate


def registered() -> dict[str, CodeAudience]:
    return dict(_registry)


def check_params(code_name: str, params) -> None:
    """A clear error for an unknown group or settings it cannot use."""
    if code_name not in _registry:
        known = ", ".join(sorted(_registry)) or "none"
        raise ValidationError({"code_name": f"No group named {code_name!r} is registered (registered: {known})."})
    if not isinstance(params, dict):
        raise ValidationError({"params": "The settings must be a JSON object, e.g. {\"count\": 50}."})
    missing = [key for key in _registry[code_name].required if key not in params]
    if missing:
        raise ValidationError({"params": f"Missing setting(s): {', '.join(missing)}. "
                                         f"Example: {_registry[code_name].params_help}"})


# --- The demo group ------------------------------------------------------------------------------------------


@register("demo.sample_learners", label="Demo: made-up learners (learner1@example.org, ...)",
          params_help='{"count": 25, "domain": "example.org", "language": "en"}')
def sample_learners(params: dict) -> Iterator[Row]:
    """``count`` made-up learners at ``domain``: for trying campaigns out and for benchmarks."""
    count = int(params.get("count", 25))
    domain = str(params.get("domain", "example.org"))
    language = str(params.get("language", ""))
    for number in range(1, count + 1):
        yield Row(email=f"learner{number}@{domain}", lms_user_id=100000 + number, language=language,
                  context={"first_name": f"Learner {number}"})
