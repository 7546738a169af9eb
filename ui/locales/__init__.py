"""The interface's strings in English and Bahasa Indonesia: one module per page (ui/locales/<page>.py),
each with EN and ID dicts of the same keys (namespaced "<page>.<name>"), merged here. The messages core gives
by code (core/messages/: English) have their Indonesian in errors_*.py: MESSAGES_ID {code: template} and
WORDS_ID {parameter: {English word: Indonesian}}, merged here too.
tests/test_i18n.py fails when a key has no Indonesian text or a string shown in the UI has no key;
tests/test_messages.py when a message code has none."""
from __future__ import annotations

import importlib
import pkgutil

EN: dict[str, str] = {}
ID: dict[str, str] = {}
MESSAGES_ID: dict[str, str] = {}
WORDS_ID: dict[str, dict[str, str]] = {}

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    _mod = importlib.import_module(f"{__name__}.{_info.name}")
    for _key in set(getattr(_mod, "EN", {})) & set(EN):
        raise RuntimeError(f"translation key {_key!r} is defined twice (ui/locales/{_info.name}.py)")
    EN.update(getattr(_mod, "EN", {}))
    ID.update(getattr(_mod, "ID", {}))
    for _code in set(getattr(_mod, "MESSAGES", {})) & set(MESSAGES_ID):
        raise RuntimeError(f"message code {_code!r} has Indonesian twice (ui/locales/{_info.name}.py)")
    MESSAGES_ID.update(getattr(_mod, "MESSAGES", {}))
    for _param, _words in getattr(_mod, "WORDS", {}).items():
        WORDS_ID.setdefault(_param, {}).update(_words)
