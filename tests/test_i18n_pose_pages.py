"""Indonesian for what core writes on the pose pages (ui/locales/errors_batches.py): the messages come from core
itself where that is cheap (the dashboard's notes, a failed pose check, the importers, de-duplication), so a
reworded English message fails here instead of showing up untranslated."""
from __future__ import annotations

import json

import pytest
from PIL import Image

from core.errors import DomainError
from ui.i18n import translate_message


def _raised(fn) -> str:
    with pytest.raises(DomainError) as info:
        fn()
    return info.value.message


def _core_messages(settings) -> list[str]:
    from core.analytics.report import assumptions
    from core.library.poses.importers import from_openpose_json
    from core.library.poses.similarity import dedupe
    from core.generation.quality import check_image

    pose = [[0.5, 0.1 + i * 0.04] for i in range(18)]
    blank = check_image(image=Image.new("RGB", (64, 96)), template_keypoints=pose, detector=lambda im: [])
    out = list(assumptions(settings)["notes"])
    out.append(f"Pose check failed after 2 attempts: {blank.reason}")
    out.append(_raised(lambda: from_openpose_json(b"{not json")))
    out.append(_raised(lambda: from_openpose_json(json.dumps({"version": 1.3}).encode())))
    doc = {"people": [{"pose_keypoints_2d": [1, 2, 3]}, {"pose_keypoints_2d": [1, 2, 3]}]}
    out.append(_raised(lambda: from_openpose_json(json.dumps(doc).encode())))
    report = dedupe([pose, pose], [pose])
    out += [reason for _, reason, _ in report.skipped]
    return out


def test_core_messages_on_the_pose_pages_have_indonesian(settings):
    messages = _core_messages(settings) + [
        "“sitting” has no active poses for a female avatar; choose from lifestyle, upper-body.",
        "“sitting” has 3 active poses and you asked for 5. Ask for fewer, or allow repeats (a repeated pose gets a "
        "different seed).",
        "A batch can have at most 500 poses; you asked for 600.",
        "Generation 5 is already completed; there is nothing to cancel.",
        "Generation 5 has no failed poses to retry.",
        "Result 9 is still running; re-render it once it has finished.",
        "Its pose template was deleted from the library before it was rendered.",
        "“Serum” has no cut-out yet (background removal: pending). Wait for it, or retry the removal on the Products "
        "page.",
        "Pose template 3 not found.",
        "from (2025-05) is after to (2025-02).",
    ]
    untranslated = [m for m in messages if translate_message(m, "id") == m]
    assert not untranslated, ("no Indonesian pattern in ui/locales/errors_batches.py for:\n  "
                              + "\n  ".join(untranslated))
    assert translate_message(messages[0], "en") == messages[0]
    notes = [translate_message(m, "id") for m in messages[:5]]
    assert any("Rp 162.500" in n for n in notes), notes   # the amounts survive


def test_patterns_of_every_locale_module_are_read():
    # errors_batches.py's own, and errors.py's ("<Record> 5 not found." for every owned record)
    assert translate_message("Pose template 3 not found.", "id") == "Template pose 3 tidak ditemukan."
    assert translate_message("Generation 5 not found.", "id") == "Batch 5 tidak ditemukan."
