"""The front door stays true: README settings table vs core/settings.py, the Spaces front matter vs
the pins, the fonts table vs assets/fonts, and the scripts the README names."""
from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path

import pytest

from core.catalog import fonts
from core import settings as settings_module
from core.settings import Settings

ROOT = Path(__file__).resolve().parent.parent
README = (ROOT / "README.md").read_text(encoding="utf-8")
HF_COLORS = {"red", "yellow", "green", "blue", "indigo", "purple", "pink", "gray"}
PAGES = ["Brand Kits", "Avatars", "Products", "Pose Library", "Generate", "Results", "Posters", "Analytics", "System"]


def front_matter() -> dict:
    """The Spaces front matter, read as YAML (what the Hub reads); scalars as their text."""
    import yaml

    assert README.startswith("---\n"), "README must start with the Spaces front matter"
    block = README[4 : README.index("\n---\n", 4)]
    data = yaml.safe_load(block)
    assert isinstance(data, dict), "the front matter must be a YAML mapping"
    return {k: (str(v).lower() if isinstance(v, bool) else v if isinstance(v, list) else str(v))
            for k, v in data.items()}


def test_the_space_preloads_exactly_the_files_the_default_settings_load():
    """preload_from_hub fetches the default models at build time, so the first click waits for nothing: each
    entry is a model the default settings use, with the files engine.downloads would fetch for an fp16 GPU."""
    from core.settings import Settings
    from engine.config import EngineConfig
    from engine.detector import BODY_FILE
    from engine.downloads import choose

    s = Settings(engine="sd15", ip_adapter="auto")
    config = EngineConfig.from_settings(s)
    entries = {}
    for line in front_matter()["preload_from_hub"]:
        repo, files = line.split()[:2]
        entries[repo] = files.split(",")
    assert set(entries) == {s.sd15_base_model, s.sd15_controlnet_model, s.ip_adapter_model, s.pose_detector,
                            s.rembg_repo}
    for ref in (config.base, config.controlnet):
        picked = choose(entries[ref.model_id], ref, fp16=True)
        assert picked.variant == "fp16" and sorted(picked.files) == sorted(entries[ref.model_id])
        assert any(f.endswith(".fp16.safetensors") for f in picked.files)
    adapter_files = set()
    for adapter in config.adapters:
        adapter_files |= set(choose(entries[s.ip_adapter_model], adapter.weights, fp16=True).files)
        adapter_files |= set(choose(entries[s.ip_adapter_model], adapter.encoder, fp16=True).files)
    assert adapter_files == set(entries[s.ip_adapter_model])
    assert entries[s.pose_detector] == [BODY_FILE] and entries[s.rembg_repo] == [f"{s.rembg_model}.onnx"]


def section(title: str) -> str:
    match = re.search(rf"^## {re.escape(title)}\n(.*?)(?=^## |\Z)", README, re.M | re.S)
    assert match, f"README has no '## {title}' section"
    return match.group(1)


def table_rows(text: str) -> list[list[str]]:
    """Body rows of the first markdown table in text, as lists of stripped cells."""
    rows = [line for line in text.splitlines() if line.startswith("|")]
    assert len(rows) >= 3, "expected a table with a header, a separator and rows"
    return [[c.strip() for c in row.strip().strip("|").split("|")] for row in rows[2:]]


def pins(name: str) -> dict[str, str]:
    out = {}
    for raw in (ROOT / name).read_text().splitlines():
        line = raw.split("#", 1)[0].strip()
        if not line or line.startswith("-r"):
            continue
        assert "==" in line, f"{name}: {line!r} is not pinned with =="
        package, version = line.split("==")
        key = re.sub(r"\[.*\]", "", package).strip().lower().replace("_", "-")
        assert key not in out, f"{name}: {key} listed twice"
        out[key] = version.strip()
    return out


def shown_default(field) -> str | None:
    """The default as the README writes it: project paths as ./..., whole floats without .0."""
    value = field.get_default(call_default_factory=True)
    if value is None:
        return None
    if isinstance(value, bool):
        return str(value).lower()
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    return str(value).replace(str(settings_module.ROOT), ".")


def test_front_matter_describes_the_space():
    fm = front_matter()
    assert fm["sdk"] == "gradio"
    assert fm["sdk_version"] == pins("requirements.txt")["gradio"]
    assert fm["app_file"] == "app.py"
    assert fm["python_version"] == "3.11"
    assert fm["pinned"] == "false"
    assert fm["title"] and fm["emoji"]
    assert fm["colorFrom"] in HF_COLORS and fm["colorTo"] in HF_COLORS
    assert fm["license"] == "apache-2.0" and "Apache License" in (ROOT / "LICENSE").read_text()


def test_settings_table_has_every_setting_with_its_default():
    rows = table_rows(section("Settings"))
    names = [r[0].strip("`") for r in rows]
    assert len(names) == len(set(names)), "a setting is listed twice"
    documented = dict(zip(names, rows))
    fields = {name.upper(): field for name, field in Settings.model_fields.items()}

    unknown = set(documented) - set(fields)
    assert not unknown, f"README documents settings that don't exist: {sorted(unknown)}"
    missing = set(fields) - set(documented)
    assert not missing, f"README's settings table lacks: {sorted(missing)}"

    for env, field in fields.items():
        _, default_cell, meaning = documented[env]
        expected = shown_default(field)
        if expected is None:
            assert default_cell.lower() == "unset", f"{env}: default should read 'unset'"
        else:
            shown = re.findall(r"`([^`]*)`", default_cell)
            assert shown and shown[0] == expected, f"{env}: README default {default_cell!r}, code {expected!r}"
        assert meaning, f"{env}: say what it means"


def test_readme_gives_the_two_commands_and_the_pages():
    assert "pip install -r requirements.txt && python app.py" in README
    assert "bash scripts/test.sh" in README
    assert "http://127.0.0.1:7860" in README
    for page in PAGES:
        assert f"**{page}**" in README, page
    for text in ("python app.py create-user", "POST /api/auth/login", "Authorization: Bearer", "/api/apps",
                 "/openapi.json", "/docs", "DATABASE_URL=postgresql+psycopg://", "REDIS_URL=redis://",
                 "python -m jobs.worker", "python app.py download-models"):
        assert text in README, text


def test_fonts_table_matches_the_shipped_fonts():
    rows = table_rows(section("Fonts"))
    licence_names = {"OFL-1.1": "SIL OFL 1.1", "Apache-2.0": "Apache 2.0"}
    documented = {r[0]: r[2] for r in rows}
    assert set(documented) == set(fonts.list_font_families())
    for family, licence in documented.items():
        assert licence == licence_names[fonts.font_info(family).license], family


def test_requirements_are_pinned():
    runtime = pins("requirements.txt")
    assert runtime["torch"] == "2.14.1" and runtime["torchvision"] == "0.29.1"
    for needed in ("gradio", "fastapi", "uvicorn", "sqlmodel", "alembic", "psycopg", "pwdlib", "pillow",
                   "diffusers", "controlnet-aux", "rembg", "rq", "redis"):
        assert needed in runtime, needed
    dev_text = (ROOT / "requirements-dev.txt").read_text()
    assert re.search(r"^-r requirements\.txt$", dev_text, re.M)
    dev = pins("requirements-dev.txt")
    assert {"pytest", "playwright", "onnx"} <= set(dev)
    assert not set(dev) & set(runtime), "requirements-dev.txt repeats a runtime pin"


def test_scripts_parse_and_ci_runs_the_readme_commands():
    ci = ROOT / ".ci" / "run"
    test_sh = ROOT / "scripts" / "test.sh"
    subprocess.run(["bash", "-n", str(ci), str(test_sh)], check=True)
    assert os.access(ci, os.X_OK), ".ci/run must be executable"
    ci_text = ci.read_text()
    assert "set -euo pipefail" in ci_text
    assert "pip install" in ci_text and "-r requirements.txt" in ci_text
    assert "REQUIRE_SERVICES=1" in ci_text and "bash scripts/test.sh" in ci_text
    assert '"$rc" -eq 5' in ci_text  # pytest's "no tests ran" is a failure
    assert 'python -m pytest "$@"' in test_sh.read_text().replace('"$PYTHON"', "python")


@pytest.mark.parametrize(
    "line",
    [
        "FROM python:3.11-slim",
        "useradd -m -u 1000 user",
        "USER user",
        "HOME=/home/user",
        "WORKDIR /home/user/app",
        "pip install --no-cache-dir --user -r requirements.txt",
        "COPY --chown=user . .",
        "HOST=0.0.0.0",
        "PORT=7860",
        "EXPOSE 7860",
        'CMD ["python", "app.py"]',
    ],
)
def test_dockerfile_is_a_spaces_image(line):
    assert line in (ROOT / "Dockerfile").read_text()


def test_dockerfile_entrypoint_is_valid_json():
    text = (ROOT / "Dockerfile").read_text()
    entry = re.search(r"^ENTRYPOINT (.*)$", text, re.M).group(1)
    assert json.loads(entry)[0] == "/bin/sh"
    ignored = (ROOT / ".dockerignore").read_text().split()
    assert {"data/", ".git"} <= set(ignored)
