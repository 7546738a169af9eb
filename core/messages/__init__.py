"""Every message core (and engine) gives a person, by code: English here, Indonesian in ui/locales/errors_*.py.

A message is a code and its parameters, `Message("intake.too_large", size=..., limit=...)`: errors carry one
(core.errors.DomainError(code, **params)), stored failures keep one (GeneratedPose.error_code/error_params), notes
and reports hand them out. The text is made only where it is shown, in the reader's language:
`render(code, params, table)`. English is the REST `detail` and the fallback; a code with no Indonesian text is
a test failure (tests/test_messages.py), never a silent English sentence on an Indonesian page.

Each module of this package holds one room's English templates (`EN = {code: template}`), codes namespaced by
room ("intake.", "credits.", "library."...). Templates use str.format fields with a few extra format specs that
follow the language (see `Formatter`): `{n:,}` thousands (1,000 / 1.000), `{size:bytes}` (12.3 MB / 12,3 MB),
`{amount:rp}` rupiah (IDR 2,437,500 / Rp 2.437.500), `{x:short}` (3,600 / 54.6 / 0.012), `{x:.1f}` decimals (1.5 / 1,5). A parameter may itself be a Message (rendered in the same
language) or a word the other language's WORDS table translates ({"record": {"Avatar": "Avatar"}}).
"""
from __future__ import annotations

import importlib
import logging
import pkgutil
import string
from dataclasses import dataclass, field
from typing import Any, Mapping

log = logging.getLogger(__name__)

EN: dict[str, str] = {}
WORDS_EN: dict[str, dict[str, str]] = {}

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    _mod = importlib.import_module(f"{__name__}.{_info.name}")
    for _code in set(getattr(_mod, "EN", {})) & set(EN):
        raise RuntimeError(f"message code {_code!r} is defined twice (core/messages/{_info.name}.py)")
    EN.update(getattr(_mod, "EN", {}))
    for _param, _words in getattr(_mod, "WORDS", {}).items():
        WORDS_EN.setdefault(_param, {}).update(_words)


@dataclass(frozen=True)
class Message:
    """A code and its parameters; JSON-safe through to_dict() / from_dict()."""

    code: str
    params: Mapping[str, Any] = field(default_factory=dict)

    def __init__(self, code: str, /, **params):
        object.__setattr__(self, "code", code)
        object.__setattr__(self, "params", params)

    @property
    def english(self) -> str:
        return render(self.code, self.params)

    def __str__(self) -> str:
        return self.english

    def to_dict(self) -> dict:
        return {"code": self.code, "params": {k: _jsonable(v) for k, v in self.params.items()}}

    @classmethod
    def from_dict(cls, data: Mapping | None) -> "Message | None":
        if not data or not data.get("code"):
            return None
        return cls(data["code"], **dict(data.get("params") or {}))


def _jsonable(value):
    if isinstance(value, Message):
        return value.to_dict()
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return str(value)


def _as_message(value) -> Message | None:
    if isinstance(value, Message):
        return value
    if isinstance(value, dict) and set(value) <= {"code", "params"} and isinstance(value.get("code"), str):
        return Message.from_dict(value)
    return None


@dataclass(frozen=True)
class Language:
    """How one language writes numbers: thousands and decimal separators."""

    thousands: str = ","
    decimal: str = "."
    bytes_word: str = "bytes"
    currency: str = "IDR"          # how amounts in rupiah are written: IDR 2,437,500 / Rp 2.437.500


LANGUAGES = {"en": Language(",", ".", "bytes", "IDR"), "id": Language(".", ",", "byte", "Rp")}


class Formatter(string.Formatter):
    """str.format with parameters translated (nested Messages, WORDS) and numbers written the language's way."""

    def __init__(self, table: Mapping[str, str], words: Mapping[str, Mapping[str, str]], language: Language):
        super().__init__()
        self.table, self.words, self.language = table, words, language

    def get_value(self, key, args, kwargs):
        value = super().get_value(key, args, kwargs)
        nested = _as_message(value)
        if nested is not None:
            return render(nested.code, nested.params, self.table, self.words, self.language)
        if isinstance(value, str) and isinstance(key, str):
            return self.words.get(key, {}).get(value, value)
        if isinstance(value, (list, tuple)) and isinstance(key, str):
            known = self.words.get(key, {})
            return ", ".join(known.get(str(v), str(v)) for v in value)
        return value

    def format_field(self, value, format_spec):
        if format_spec == "bytes" and isinstance(value, (int, float)):
            return self._number(human_size(value)).replace(" bytes", " " + self.language.bytes_word)
        if format_spec == "short" and isinstance(value, (int, float)):
            return self._number(short_number(value))
        if format_spec == "rp" and isinstance(value, (int, float)):
            sign = "-" if value < 0 else ""
            return f"{sign}{self.language.currency} {abs(round(value)):,}".replace(",", self.language.thousands)
        text = super().format_field(value, format_spec)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return self._number(text)
        return text

    def _number(self, text: str) -> str:
        lang = self.language
        if (lang.thousands, lang.decimal) == (",", "."):
            return text
        return text.translate(str.maketrans({",": lang.thousands, ".": lang.decimal}))


def short_number(value: float) -> str:
    """54.6, 50, 3,600, 0.012: one decimal at most, none when it is .0, two significant digits below 1."""
    return f"{value:,.1f}".removesuffix(".0") if value >= 1 else f"{value:.2g}"


def human_size(n: float) -> str:
    """2.1 GB, 26.3 MB, 20 MB, 512 KB, 900 bytes (MB = 1024 × 1024 bytes, as Settings.limit_bytes counts them),
    with English separators; Formatter rewrites them for the reader's language."""
    if n >= 1024 ** 3:
        return f"{n / 1024 ** 3:.1f}".removesuffix(".0") + " GB"
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.1f}".removesuffix(".0") + " MB"
    if n >= 1024:
        return f"{n / 1024:.1f}".removesuffix(".0") + " KB"
    return f"{int(n)} bytes"


def render(code: str, params: Mapping[str, Any] | None = None, table: Mapping[str, str] | None = None,
           words: Mapping[str, Mapping[str, str]] | None = None, language: Language | None = None) -> str:
    """The text of `code` in `table` (English by default), falling back to English for a code the table lacks.
    An unknown code never raises (it is logged and shown as the code): a message must not become a crash."""
    table = EN if table is None else table
    template = table.get(code) or EN.get(code)
    if template is None:
        log.error("message code %r has no text", code)
        return code
    fmt = Formatter(table, WORDS_EN if words is None else words, language or LANGUAGES["en"])
    try:
        return fmt.vformat(template, (), dict(params or {}))
    except (KeyError, IndexError, ValueError) as exc:
        log.error("message %r cannot be formatted with %r: %s", code, dict(params or {}), exc)
        return template


def english(code: str, params: Mapping[str, Any] | None = None) -> str:
    return render(code, params)


def invalid(code: str, /, **params):
    """A pydantic validation error carrying our code and parameters (raise it from a field validator): REST
    answers its English text, ui.common.pydantic_message finds the code and shows the visitor's language."""
    from pydantic_core import PydanticCustomError

    return PydanticCustomError(code, render(code, params).replace("{", "(").replace("}", ")"),
                               {k: _jsonable(v) for k, v in params.items()})
