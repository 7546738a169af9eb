"""The interface's strings in English and Bahasa Indonesia: one module per page (ui/locales/<page>.py),
each with EN and ID dicts of the same keys (namespaced "<page>.<name>"), merged here. Messages that core
writes in English (image intake, credits, ...) are translated by the patterns in errors.py.
tests/test_i18n.py fails when a key has no Indonesian text or a string shown in the UI has no key."""
from __future__ import annotations

import importlib
import pkgutil

EN: dict[str, str] = {}
ID: dict[str, str] = {}

for _info in sorted(pkgutil.iter_modules(__path__), key=lambda m: m.name):
    _mod = importlib.import_module(f"{__name__}.{_info.name}")
    for _key in set(getattr(_mod, "EN", {})) & set(EN):
        raise RuntimeError(f"translation key {_key!r} is defined twice (ui/locales/{_info.name}.py)")
    EN.update(getattr(_mod, "EN", {}))
    ID.update(getattr(_mod, "ID", {}))
