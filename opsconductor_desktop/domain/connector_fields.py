"""Connector manifests: the validation helpers and the settings form's fields.

``SettingField`` is one field of the form an operator fills in (the GUI renders it; the
CLI takes ``KEY=VALUE``); ``coerce`` checks and types a value. The helpers raise
``ValidationError`` whose ``field`` is the dotted path of the culprit.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from opsconductor_desktop.domain.connector_templates import Condition, Template
from opsconductor_desktop.domain.errors import ValidationError

if TYPE_CHECKING:
    from opsconductor_desktop.domain.connectors import Manifest

NAME_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")
_TRUE = {"true", "yes", "on", "1"}
_FALSE = {"false", "no", "off", "0"}


class FieldType(StrEnum):
    STRING = "string"
    INT = "int"
    BOOL = "bool"
    SECRET = "secret"
    URL = "url"
    CHOICE = "choice"
    CREDENTIAL = "credential"


def fail(where: str, message: str) -> ValidationError:
    return ValidationError(message, field=where)


def check_keys(data: Any, where: str, allowed: Iterable[str], required: Iterable[str] = ()) -> None:
    if not isinstance(data, Mapping):
        raise fail(where, f"expected a mapping, not {type(data).__name__}")
    allowed = set(allowed)
    unknown = sorted(str(k) for k in data if k not in allowed)
    if unknown:
        raise fail(
            f"{where}.{unknown[0]}" if where else unknown[0],
            f"unknown field(s) {', '.join(unknown)}; expected {', '.join(sorted(allowed))}",
        )
    for key in required:
        if data.get(key) is None:
            raise fail(f"{where}.{key}" if where else key, "required")


def text_field(data: Mapping[str, Any], key: str, where: str, *, limit: int = 200) -> str:
    value = data.get(key)
    if isinstance(value, int | float) and not isinstance(value, bool):
        value = str(value)
    if not isinstance(value, str) or not value.strip():
        raise fail(where, "expected non-empty text")
    if len(value) > limit:
        raise fail(where, f"longer than {limit} characters")
    return value.strip()


def number_field(value: Any, where: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise fail(where, f"expected a number from {low:g} to {high:g}")
    if not low <= value <= high:
        raise fail(where, f"{value:g} is out of range {low:g}-{high:g}")
    return float(value)


def bool_field(value: Any, where: str) -> bool:
    if not isinstance(value, bool):
        raise fail(where, "expected true or false")
    return value


def template_field(value: Any, where: str) -> Template:
    try:
        return Template.parse(value)
    except ValidationError as exc:
        raise fail(where, str(exc)) from None


def condition_field(value: Any, where: str) -> Condition:
    try:
        return Condition.parse(value)
    except ValidationError as exc:
        raise fail(where, str(exc)) from None


def scalar_text(value: Any) -> Any:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value) if isinstance(value, int | float) else value


def literal_or_template(value: Any, where: str, low: float, high: float) -> float | Template:
    if isinstance(value, str):
        return template_field(value, where)
    return number_field(value, where, low, high)


# ---- settings ------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class SettingField:
    """One field of the settings form."""

    name: str
    type: FieldType
    default: Any = None
    required: bool = False
    help: str = ""
    label: str = ""
    choices: tuple[str, ...] = ()
    minimum: int | None = None
    maximum: int | None = None
    credential_kind: str | None = None
    multiple: bool = False  # a credential field naming several credentials, comma-separated

    @property
    def secret(self) -> bool:
        return self.type is FieldType.SECRET

    @staticmethod
    def names(value: Any) -> list[str]:
        """The credential names of a ``multiple`` field's value (text or a list)."""
        items = value.split(",") if isinstance(value, str) else value
        if not isinstance(items, list | tuple):
            return []
        return [str(item).strip() for item in items if str(item).strip()]

    @property
    def title(self) -> str:
        """The form's label: ``label``, else the name as words (``api_token`` → "API token")."""
        if self.label:
            return self.label
        words = [_ACRONYMS.get(w, w) for w in self.name.split("_") if w]
        if words and words[0] == self.name.split("_")[0]:
            words[0] = words[0].capitalize()
        return " ".join(words)

    def coerce(self, value: Any) -> Any:
        """An operator's value (text from the CLI, or typed) checked and typed for this field."""
        t = self.type
        if t is FieldType.BOOL:
            if isinstance(value, bool):
                return value
            word = str(value).strip().lower()
            if word in _TRUE | _FALSE:
                return word in _TRUE
            raise ValidationError(f"{self.name}: expected true or false, not {value!r}")
        if t is FieldType.INT:
            try:
                number = int(str(value).strip()) if not isinstance(value, int) else value
            except ValueError:
                raise ValidationError(f"{self.name}: expected a whole number") from None
            if isinstance(number, bool):
                raise ValidationError(f"{self.name}: expected a whole number")
            low, high = self.minimum, self.maximum
            if (low is not None and number < low) or (high is not None and number > high):
                raise ValidationError(f"{self.name}: {number} is out of range {low}-{high}")
            return number
        if self.multiple:
            value = ", ".join(self.names(value))
        text = value if isinstance(value, str) else str(value)
        if len(text) > 4000:
            raise ValidationError(f"{self.name}: longer than 4000 characters")
        if t is FieldType.URL:
            text = text.strip().rstrip("/")
            if not re.match(r"^https?://[^/\s?#]+(/\S*)?$", text):
                raise ValidationError(
                    f"{self.name}: expected an http:// or https:// URL, not {text!r}"
                )
        elif t is FieldType.CHOICE and text not in self.choices:
            raise ValidationError(f"{self.name}: one of {', '.join(self.choices)}, not {text!r}")
        elif t is not FieldType.SECRET:
            text = text.strip()
        return text


_ACRONYMS = {
    w: w.upper() for w in ("api", "url", "tls", "id", "ip", "snmp", "http", "https", "tcp", "udp")
} | {"snmpv3": "SNMPv3", "v3": "v3"}

_FIELD_KEYS = (
    "name",
    "type",
    "default",
    "required",
    "help",
    "label",
    "choices",
    "min",
    "max",
    "credential_kind",
    "multiple",
)


def setting_field(data: Any, where: str) -> SettingField:
    check_keys(data, where, _FIELD_KEYS, ("name", "type"))
    name = text_field(data, "name", f"{where}.name", limit=64)
    if not NAME_PATTERN.match(name):
        raise fail(f"{where}.name", "a setting name is lower case: letters, digits and _")
    try:
        kind = FieldType(str(data["type"]))
    except ValueError:
        types = ", ".join(t.value for t in FieldType)
        raise fail(f"{where}.type", f"unknown type {data['type']!r}; one of {types}") from None
    choices: tuple[str, ...] = ()
    if kind is FieldType.CHOICE:
        raw = data.get("choices")
        if not isinstance(raw, list) or not raw:
            raise fail(f"{where}.choices", "a choice field lists its choices")
        choices = tuple(str(c) for c in raw)
    elif "choices" in data:
        raise fail(f"{where}.choices", "only a choice field has choices")
    bounds = {k: data.get(k) for k in ("min", "max")}
    for k, v in bounds.items():
        if v is not None and (kind is not FieldType.INT or not isinstance(v, int)):
            raise fail(f"{where}.{k}", "min and max are whole numbers of an int field")
    if data.get("credential_kind") is not None and kind is not FieldType.CREDENTIAL:
        raise fail(f"{where}.credential_kind", "only a credential field has a credential kind")
    multiple = bool_field(data.get("multiple", False), f"{where}.multiple")
    if multiple and kind is not FieldType.CREDENTIAL:
        raise fail(f"{where}.multiple", "only a credential field can name several credentials")
    result = SettingField(
        name=name,
        type=kind,
        required=bool_field(data.get("required", False), f"{where}.required"),
        help=str(data.get("help") or "").strip(),
        label=str(data.get("label") or "").strip(),
        choices=choices,
        minimum=bounds["min"],
        maximum=bounds["max"],
        credential_kind=(
            str(data["credential_kind"]) if data.get("credential_kind") is not None else None
        ),
        multiple=multiple,
    )
    if data.get("default") is not None:
        if kind in (FieldType.SECRET, FieldType.CREDENTIAL):
            raise fail(f"{where}.default", "a secret or credential field has no default")
        try:
            default = result.coerce(data["default"])
        except ValidationError as exc:
            raise fail(f"{where}.default", str(exc)) from None
        result = SettingField(**{**_as_dict(result), "default": default})
    return result


def _as_dict(f: SettingField) -> dict[str, Any]:
    return {name: getattr(f, name) for name in SettingField.__slots__}


def settings_for(m: Manifest, values: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest's defaults overlaid with stored values (secrets are not among them)."""
    return {**m.defaults(), **{k: v for k, v in values.items() if v is not None}}


def missing_required(m: Manifest, values: Mapping[str, Any], secrets: Iterable[str]) -> list[str]:
    """Required settings with no value (secrets: no keyring entry) — a connector cannot run."""
    have = set(secrets) | {k for k, v in values.items() if v not in (None, "")}
    return [f.name for f in m.settings if f.required and f.default is None and f.name not in have]


def fields_text(fields: Sequence[SettingField]) -> str:
    return ", ".join(f"{f.name} ({f.type.value})" for f in fields)
