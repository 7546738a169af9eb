"""The rooms of ../DESIGN.md, checked on the real import graph (grimp builds it from every import statement,
at module level and inside functions): arrows only point down, no module imports itself round a circle, and
each room keeps to the libraries it may use."""
from __future__ import annotations

import ast
from pathlib import Path

import grimp
import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("core", "ui", "api", "jobs", "db", "engine")
TOP_MODULES = ("app", "services")     # single-file modules at the top (grimp takes packages only)
# Who may import whom. A room not named on the right may not be imported at all.
MAY_IMPORT = {
    "ui": {"core", "jobs", "ui", "services"},
    "api": {"core", "jobs", "api", "services"},
    "jobs": {"core", "jobs", "services", "db", "engine"},
    "core": {"core", "db", "engine"},
    "db": {"db"},
    "engine": {"engine", "core.errors"},
}
NEVER = {  # outside libraries a room must not touch
    "ui": {"db", "sqlmodel", "sqlalchemy", "torch", "diffusers", "rq", "transformers"},
    "api": {"db", "sqlmodel", "torch", "diffusers", "rq", "transformers", "gradio"},
    "core": {"gradio", "fastapi", "starlette", "rq", "redis", "uvicorn"},
    "db": {"core", "gradio", "fastapi", "torch", "diffusers"},
    "engine": {"gradio", "fastapi", "sqlmodel", "sqlalchemy", "rq", "db"},
}
HEAVY = ("torch", "diffusers", "transformers", "controlnet_aux", "rembg", "onnxruntime", "engine")


@pytest.fixture(scope="module")
def graph():
    return grimp.build_graph(*PACKAGES, include_external_packages=True, cache_dir=None)


def edges(graph) -> dict[str, set[str]]:
    """module -> modules it imports (project modules and top-level outside packages), app/services included."""
    out = {m: set(graph.find_modules_directly_imported_by(m)) for m in graph.modules}
    for name in TOP_MODULES:
        tree = ast.parse((ROOT / f"{name}.py").read_text())
        found = set()
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found |= {a.name for a in node.names}
            elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                found |= {f"{node.module}.{a.name}" for a in node.names} | {node.module}
        out[name] = {m for m in found if m in graph.modules or m.split(".")[0] in TOP_MODULES}
    return out


def room(module: str) -> str:
    return module.split(".")[0]


def allowed(importer: str, imported: str) -> bool:
    rules = MAY_IMPORT.get(room(importer))
    if rules is None or room(imported) not in PACKAGES + TOP_MODULES:
        return True
    return any(imported == r or imported.startswith(r + ".") for r in rules)


def where(graph, importer: str, imported: str) -> str:
    details = graph.get_import_details(importer=importer, imported=imported)
    return "; ".join(f"line {d['line_number']}: {d['line_contents']}" for d in details) or "?"


def test_arrows_only_point_down(graph):
    bad = [f"{a} -> {b} ({where(graph, a, b)})" for a, targets in edges(graph).items() for b in sorted(targets)
           if not allowed(a, b)]
    assert not bad, "imports against the rooms of DESIGN.md:\n" + "\n".join(bad)


def test_rooms_keep_to_their_libraries(graph):
    bad = []
    for module in sorted(graph.modules):
        banned = NEVER.get(room(module))
        if not banned:
            continue
        for imported in graph.find_modules_directly_imported_by(module):
            if room(imported) in banned and room(imported) != room(module):
                bad.append(f"{module} -> {imported} ({where(graph, module, imported)})")
    assert not bad, "\n".join(bad)


def test_no_import_circles(graph):
    """Tarjan's strongly connected components over every import (function-level ones too)."""
    out = {m: {t for t in ts if t in graph.modules and room(t) in PACKAGES} for m, ts in edges(graph).items()
           if room(m) in PACKAGES}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on: set[str] = set()
    circles = []
    counter = [0]

    def visit(v):  # iterative enough for ~300 modules; recursion depth stays below the module count
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in out.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            group = []
            while True:
                w = stack.pop()
                on.discard(w)
                group.append(w)
                if w == v:
                    break
            if len(group) > 1:
                circles.append(sorted(group))

    for v in sorted(out):
        if v not in index:
            visit(v)
    described = []
    for group in circles:
        chain = graph.find_shortest_chain(importer=group[0], imported=group[1]) or ()
        back = graph.find_shortest_chain(importer=group[1], imported=group[0]) or ()
        described.append(f"{' -> '.join(chain)} | {' -> '.join(back)}")
    assert not circles, "import circles:\n" + "\n".join(described)


def test_the_heavy_rooms_load_only_when_needed():
    """core, ui and api import engine/ and the ML libraries inside functions only, so the web process starts
    without torch; module-level imports of them are listed."""
    bad = []
    for package in ("core", "ui", "api"):
        for path in sorted((ROOT / package).rglob("*.py")):
            tree = ast.parse(path.read_text())
            for node in tree.body:
                names = []
                if isinstance(node, ast.Import):
                    names = [a.name for a in node.names]
                elif isinstance(node, ast.ImportFrom) and node.module and not node.level:
                    names = [node.module]
                for name in names:
                    if name.split(".")[0] in HEAVY:
                        bad.append(f"{path.relative_to(ROOT)}:{node.lineno}: {name}")
    assert not bad, "module-level heavy imports:\n" + "\n".join(bad)


def test_every_core_room_says_what_it_owns():
    for init in sorted((ROOT / "core").rglob("__init__.py")):
        doc = ast.get_docstring(ast.parse(init.read_text()))
        assert doc and len(doc) > 60, f"{init.relative_to(ROOT)} needs a docstring saying what the room owns"


def test_only_settings_reads_the_environment():
    bad = []
    for package in PACKAGES:
        for path in sorted((ROOT / package).rglob("*.py")):
            if path.relative_to(ROOT).as_posix() in ("core/settings.py",) or "migrations" in path.parts:
                continue
            text = path.read_text()
            if "os.environ" in text or "os.getenv" in text:
                bad.append(str(path.relative_to(ROOT)))
    assert not bad, "read the environment outside core/settings.py: " + ", ".join(bad)


def test_source_files_stay_short():
    """DESIGN rule 9: a file past 400 lines is two rooms. Tests and generated migrations are not counted."""
    long = []
    paths = [ROOT / f"{m}.py" for m in TOP_MODULES] + [p for d in PACKAGES + ("bench",) for p in (ROOT / d).rglob("*.py")]
    for path in sorted(paths):
        rel = path.relative_to(ROOT)
        if "migrations" in rel.parts:
            continue
        n = len(path.read_text().splitlines())
        if n > 400:
            long.append(f"{rel}: {n} lines")
    assert not long, "\n".join(long)
