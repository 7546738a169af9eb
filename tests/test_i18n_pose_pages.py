"""Indonesian for what core writes on the pose pages (ui/locales/errors_generation.py, errors_library.py, errors_analytics.py): the messages come from core
itself where that is cheap (the dashboard's notes, a failed pose check, the importers, de-duplication), so a
reworded English message fails here instead of showing up untranslated."""
from __future__ import annotations

import json

import pytest
from PIL import Image

from core.errors import DomainError
from ui.i18n import message_text


def _raised(fn) -> DomainError:
    with pytest.raises(DomainError) as info:
        fn()
    return info.value


def test_pose_library_and_import_messages_read_in_indonesian():
    """The importers' errors, de-duplication's reasons and the library's own errors, by code, from core itself."""
    from core.errors import NotFound
    from core.library.poses.importers import from_openpose_json
    from core.library.poses.keypoints import Pose
    from core.library.poses.similarity import dedupe
    from core.library.templates import _require_admin

    not_json = _raised(lambda: from_openpose_json(b"{not json"))
    assert not_json.code == "poses.not_json" and message_text(not_json, "id").startswith("Bukan file JSON: ")
    no_people = _raised(lambda: from_openpose_json(json.dumps({"version": 1.3}).encode()))
    assert no_people.message == "Document 0 has no 'people' list (OpenPose JSON expected)."
    assert message_text(no_people, "id") == "Dokumen 0 tidak punya daftar 'people' (yang diharapkan: OpenPose JSON)."
    doc = {"people": [{"pose_keypoints_2d": [1, 2, 3]}, {"pose_keypoints_2d": [1, 2, 3]}]}
    count = _raised(lambda: from_openpose_json(json.dumps(doc).encode()))
    assert count.message == ("document 0, person 0: pose_keypoints_2d must hold 54 (COCO-18) or 75 (BODY_25) numbers, "
                             "got 3.")
    assert message_text(count, "id") == ("dokumen 0, orang 0: pose_keypoints_2d harus berisi 54 (COCO-18) atau 75 "
                                         "(BODY_25) angka, bukan 3.")
    assert count.to_dict()["params"]["label"] == {"code": "poses.person_in_document",
                                                  "params": {"document": 0, "person": 0}}

    pose = [[0.5, 0.1 + i * 0.04] for i in range(18)]
    near = [[x + 0.0123, y] for x, y in pose]
    reasons = [reason for _, reason, _ in dedupe([pose, near, pose[:2] + [None] * 16], [pose]).skipped]
    assert [message_text(r, "id") for r in reasons] == [
        "sama dengan pose yang sudah ada (jarak 0,000)", "sama dengan pose yang sudah ada (jarak 0,000)",
        "hanya 2 titik pose (perlu 6)"]
    assert reasons[2].english == "only 2 keypoints (need 6)"
    bad = Pose.from_points([(0.5, 0.5)] * 18).keypoints
    with pytest.raises(DomainError) as info:
        Pose(bad[:4] + ((0.5, 0.5, 3.0),) + bad[5:])
    assert message_text(info.value, "id") == "Titik pergelangan tangan kanan harus berupa Keypoint atau None."

    missing = NotFound("records.not_found", record="Pose template", id=3)
    assert missing.message == "Pose template 3 not found."
    assert message_text(missing, "id") == "Template pose 3 tidak ditemukan."
    with pytest.raises(DomainError) as info:
        _require_admin(type("Shop", (), {"is_admin": False})())
    assert info.value.message == "Only the data team (admins) can change pose templates."
    assert message_text(info.value, "id") == "Hanya tim data (admin) yang bisa mengubah template pose."


def test_generation_and_analytics_messages_read_in_indonesian(settings):
    """From core itself: the dashboard's notes, a failed pose check's reason, planning's and cancelling's
    refusals; numbers and words follow the reader's language."""
    from core.analytics.report import assumptions
    from core.errors import Conflict, NotFound, ValidationFailed
    from core.generation.quality import check_image
    from core.messages import Message

    notes = [Message.from_dict(n) for n in assumptions(settings)["noteMessages"]]
    assert [n.english for n in notes] == assumptions(settings)["notes"]
    indonesian = [message_text(n, "id") for n in notes]
    assert any("Rp 162.500" in n and "hemat" in n for n in indonesian), indonesian   # Indonesian separators
    assert any("IDR 162,500" in n.english for n in notes)                             # English ones

    pose = [[0.5, 0.1 + i * 0.04] for i in range(18)]
    blank = check_image(image=Image.new("RGB", (64, 96)), template_keypoints=pose, detector=lambda im: [])
    failed = Message("render.check_failed", attempts=2, reason=blank.reason)
    assert failed.english == ("Pose check failed after 2 attempts: blank image (black or uniform, e.g. blocked by "
                              "the safety checker)")
    assert message_text(failed, "id") == ("Cek pose gagal setelah 2 kali coba: gambar kosong (hitam atau polos, "
                                          "mis. diblokir oleh pemeriksa keamanan)")
    # stored and read back as JSON (GeneratedPose.error_code / error_params), the nested reason included
    again = Message.from_dict(failed.to_dict())
    assert message_text(again, "id") == message_text(failed, "id")

    cases = [
        (ValidationFailed("planning.not_for_gender", category="sitting", gender="female",
                          known=["lifestyle", "upper-body"]),
         "“sitting” tidak punya pose aktif untuk avatar perempuan; pilih dari lifestyle, upper-body."),
        (ValidationFailed("planning.too_many_poses", most=500, n=1200),
         "Satu batch maksimal 500 pose; Anda minta 1.200."),
        (Conflict("generation.nothing_to_cancel", id=5, batch_status="completed"),
         "Batch 5 sudah selesai; tidak ada yang bisa dibatalkan."),
        (Conflict("planning.still_rendering", id=9, pose_status="running"),
         "Hasil 9 masih sedang dibuat; buat ulang setelah selesai."),
        (ValidationFailed("generation.no_cutout", product="Serum", bg_status="pending"),
         "“Serum” belum punya potongan gambar (penghapusan latar: menunggu). Tunggu sebentar, atau ulangi "
         "penghapusan latar di halaman Produk."),
        (ValidationFailed("analytics.from_after_to", lo="2025-05", hi="2025-02"),
         "Bulan awal (2025-05) jatuh setelah bulan akhir (2025-02)."),
        (NotFound("records.not_found", record="Generation", id=5), "Batch 5 tidak ditemukan."),
    ]
    for exc, text in cases:
        assert message_text(exc, "id") == text, exc.code
        assert message_text(exc, "en") == exc.message
    assert cases[1][0].message == "A batch can have at most 500 poses; you asked for 1,200."
