"""Messages by code (core/messages/, ui/locales/errors_*.py), checked on the source itself: every code a raise or a
Message names exists, with exactly the parameters its template uses; every English template has Indonesian text
with the same fields; nothing is left of the old English-matching regex tables."""
from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest

from core import messages
from core.errors import DomainError, ImageRejected, NotFound
from core.messages import EN, Message, render
from ui.i18n import message_text
from ui.locales import MESSAGES_ID, WORDS_ID

ROOT = Path(__file__).resolve().parents[1]
SOURCE_ROOTS = ("core", "engine", "api", "ui", "jobs", "db")
NOT_PARAMS = {"field", "status", "transient", "job_id"}   # DomainError's own keywords, and ProviderError's
BUILDERS = {"Message", "invalid"}
CODE = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)+")           # calls whose first argument is a code besides the error classes


def source_files() -> list[Path]:
    files = [p for d in SOURCE_ROOTS for p in (ROOT / d).rglob("*.py")]
    return files + [ROOT / "app.py", ROOT / "services.py"]


def _trees() -> list[tuple[Path, ast.AST]]:
    return [(p, ast.parse(p.read_text(), str(p))) for p in source_files()]


TREES = _trees()


def _error_classes() -> set[str]:
    """DomainError and every class that inherits from it, anywhere in the source (by name, transitively)."""
    found = {"DomainError"}
    bases: dict[str, set[str]] = {}
    for _path, tree in TREES:
        for node in ast.walk(tree):
            if isinstance(node, ast.ClassDef):
                bases[node.name] = {b.id if isinstance(b, ast.Name) else getattr(b, "attr", "") for b in node.bases}
    grew = True
    while grew:
        grew = False
        for name, of in bases.items():
            if name not in found and of & found:
                found.add(name)
                grew = True
    return found


ERRORS = _error_classes()


def _name(func: ast.AST) -> str:
    return func.id if isinstance(func, ast.Name) else func.attr if isinstance(func, ast.Attribute) else ""


def code_calls():
    """(where, code or None when not a literal, keyword names or None when **params is passed) for every call of
    an error class, Message(...) or invalid(...)."""
    for path, tree in TREES:
        for node in ast.walk(tree):
            if isinstance(node, ast.Call) and (_name(node.func) in ERRORS | BUILDERS):
                if _name(node.func) in BUILDERS and path.parent.name == "messages":
                    continue                                   # the definitions themselves
                where = f"{path.relative_to(ROOT)}:{node.lineno}"
                first = node.args[0] if node.args else None
                code = first.value if isinstance(first, ast.Constant) and isinstance(first.value, str) else None
                names = None if any(k.arg is None for k in node.keywords) else {k.arg for k in node.keywords}
                yield where, code, first, names


def fields(template: str) -> dict[str, str]:
    """The template's top-level field names and their format specs."""
    out = {}
    for _text, name, spec, _conv in string.Formatter().parse(template):
        if name is not None:
            out[name.split(".")[0].split("[")[0]] = spec or ""
    return out


def test_every_code_a_call_names_exists_with_its_parameters():
    problems = []
    for where, code, first, names in code_calls():
        if first is None:
            problems.append(f"{where}: no message code")
            continue
        if code is None:
            if isinstance(first, (ast.Name, ast.Attribute, ast.Subscript, ast.IfExp)):
                continue                                       # a code passed along (checked where it is written)
            problems.append(f"{where}: the first argument must be a message code, not a built sentence")
            continue
        if not CODE.fullmatch(code):
            problems.append(f"{where}: {code[:60]!r} is not a message code (room.name)")
            continue
        if code not in EN:
            problems.append(f"{where}: unknown message code {code!r} (add it to core/messages/)")
            continue
        if names is not None:
            want, given = set(fields(EN[code])), names - NOT_PARAMS
            if want != given:
                problems.append(f"{where}: {code} takes {sorted(want)}, the call gives {sorted(given)}")
    assert not problems, "\n".join(problems)


def test_codes_passed_along_are_written_somewhere_as_literals():
    """A code held in a variable (changes_of's required fields...) still appears as a literal in the source; and
    every English code is used somewhere (no dead text for translators to keep up)."""
    literals = set()
    for path, tree in TREES:
        if path.parent.name == "messages" and path.parent.parent.name == "core":
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                literals.add(node.value)
    unused = sorted(c for c in EN if c not in literals and not c.startswith("input."))
    assert not unused, "codes nothing in the source names: " + ", ".join(unused)


def test_every_english_message_has_indonesian_with_the_same_fields():
    missing = sorted(set(EN) - set(MESSAGES_ID))
    assert not missing, "no Indonesian text for: " + ", ".join(missing)
    stale = sorted(set(MESSAGES_ID) - set(EN))
    assert not stale, "Indonesian text for codes that no longer exist: " + ", ".join(stale)
    differ = [f"{c}: {fields(EN[c])} vs {fields(MESSAGES_ID[c])}" for c in EN if fields(EN[c]) != fields(MESSAGES_ID[c])]
    assert not differ, "\n".join(differ)


def _sample(spec: str):
    return 1234.5 if spec in {"bytes", "short", "rp"} or spec.endswith("f") or spec == "," else "x"


@pytest.mark.parametrize("code", sorted(EN))
def test_every_message_renders_in_both_languages(code):
    params = {name: _sample(spec) for name, spec in fields(EN[code]).items()}
    english = render(code, params)
    indonesian = message_text(Message(code, **params), "id")
    for text in (english, indonesian):
        assert text and "{" not in text and "}" not in text and code not in text, (code, text)


def test_words_tables_name_parameters_a_template_uses():
    used = {name for table in (EN, MESSAGES_ID) for t in table.values() for name in fields(t)}
    assert not set(WORDS_ID) - used, f"WORDS_ID for parameters no message has: {sorted(set(WORDS_ID) - used)}"


def test_no_regex_tables_are_left():
    import importlib
    import pkgutil

    import ui.locales

    left = [m.name for m in pkgutil.iter_modules(ui.locales.__path__)
            if hasattr(importlib.import_module(f"ui.locales.{m.name}"), "PATTERNS")]
    assert not left, f"English-matching PATTERNS still in ui/locales/{left}: translate by code instead"


def test_an_error_reads_in_the_visitors_language_and_rest_keeps_english_detail():
    exc = ImageRejected("intake.too_large", field="file", status=413, size=27_577_549, limit=20 * 1024 * 1024,
                        kinds="products")
    assert exc.message == "This file is 26.3 MB; products can be at most 20 MB."
    assert message_text(exc, "id") == "Ukuran file ini 26,3 MB; ukuran produk maksimal 20 MB."
    body = exc.to_dict()
    assert body == {"detail": exc.message, "code": "intake.too_large", "kind": "image_rejected", "field": "file",
                    "params": {"size": 27_577_549, "limit": 20 * 1024 * 1024, "kinds": "products"}}
    assert message_text(NotFound("records.not_found", record="Brand kit", id=7), "id") == "Kit merek 7 tidak ditemukan."


def test_numbers_follow_the_language_and_nested_messages_render_in_it():
    outer = Message("records.not_found", record="Generation", id=1234)
    stored = outer.to_dict()
    assert Message.from_dict(stored) == outer
    assert message_text(stored, "id") == "Batch 1234 tidak ditemukan."
    fmt = messages.Formatter(MESSAGES_ID, WORDS_ID, messages.LANGUAGES["id"])
    assert fmt.format("{n:,} {x:.1f} {s:bytes} {a:rp} {m:short}", n=1_000_000, x=1.5, s=900, a=150_000,
                      m=0.012) == "1.000.000 1,5 900 byte Rp 150.000 0,012"
    assert message_text("An old stored sentence.", "id") == "An old stored sentence."   # rows from before codes


def test_an_unknown_code_is_shown_as_its_code_not_a_crash(caplog):
    assert render("nowhere.such_code", {}) == "nowhere.such_code"
    assert isinstance(DomainError("nowhere.such_code").message, str)
