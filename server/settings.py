"""The server's settings: one typed object, defaults in one place.

Clients send them as ``initializationOptions`` and answer ``workspace/configuration`` for the
section ``tinyAgent``. Keys are camelCase as editors write them; unknown keys are ignored and
bad values keep the default (with a warning naming the key), so a typo never stops the server.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

SECTION = "tinyAgent"


@dataclass(frozen=True)
class Settings:
    model_path: str | None = None
    """Model directory; None means the shipped default model, "dummy" the built-in templates."""
    device: str = "auto"
    """Device for training and generation: "cpu", "cuda" or "auto"."""
    beams: int | None = None
    """Beam width for generation; None uses the model's configuration."""
    max_tokens: int | None = None
    """Longest generated code in tokens; None uses the model's configuration."""
    validate_on: Literal["type", "save"] = "type"
    """Validate while typing (debounced) or only when the file is saved."""
    completions_enabled: bool = True
    """Offer code generated from comments (inline, completion list, code action)."""
    debounce_ms: int = 250
    """Quiet time after the last keystroke before validating."""
    completion_wait_ms: int = 150
    """How long the completion list may wait for generated code before answering without it."""
    max_file_kb: int = 2048
    """Files larger than this are not validated or analysed (a diagnostic says so)."""


_KEYS: dict[str, str] = {
    "modelPath": "model_path",
    "device": "device",
    "beams": "beams",
    "maxTokens": "max_tokens",
    "validateOn": "validate_on",
    "completions.enabled": "completions_enabled",
    "completions.waitMs": "completion_wait_ms",
    "debounceMs": "debounce_ms",
    "maxFileKb": "max_file_kb",
}


def _flatten(data: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    flat: dict[str, Any] = {}
    for key, value in data.items():
        name = f"{prefix}{key}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{name}."))
        else:
            flat[name] = value
    return flat


def _check(field: str, value: Any) -> Any:
    """The value converted to the field's type, or raise ValueError with what is expected."""
    if field in ("model_path",):
        if value is None or value == "":
            return None
        if not isinstance(value, str):
            raise ValueError("a path (string)")
        return value
    if field == "device":
        if value not in ("cpu", "cuda", "auto"):
            raise ValueError('"cpu", "cuda" or "auto"')
        return value
    if field == "validate_on":
        if value not in ("type", "save"):
            raise ValueError('"type" or "save"')
        return value
    if field == "completions_enabled":
        if not isinstance(value, bool):
            raise ValueError("true or false")
        return value
    if field in ("beams", "max_tokens") and value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError("a non-negative whole number")
    if field == "beams" and value < 1:
        raise ValueError("at least 1")
    return value


def merge_settings(base: Settings, data: Mapping[str, Any] | None) -> tuple[Settings, list[str]]:
    """``base`` updated from a client's settings object; returns the problems found.

    ``data`` may be the ``tinyAgent`` section itself or an object that contains it.
    """
    if not isinstance(data, Mapping):
        return base, []
    section = data.get(SECTION, data)
    if not isinstance(section, Mapping):
        return base, [f"{SECTION}: expected an object of settings"]
    changes: dict[str, Any] = {}
    problems: list[str] = []
    for key, value in _flatten(section).items():
        field = _KEYS.get(key)
        if field is None:
            continue
        try:
            changes[field] = _check(field, value)
        except ValueError as exc:
            problems.append(f"{SECTION}.{key}: expected {exc}, got {value!r}; keeping the default")
    return dataclasses.replace(base, **changes), problems
