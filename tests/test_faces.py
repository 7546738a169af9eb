"""The avatar's face (issue 13): the square likeness is taken from. Made at upload (the documented portrait
fallback), placed by the pose detector's head keypoints on the first render where the detector runs, adjustable
by the user; stored as a crop of the photo, served to its owner only, replaced when the photo changes."""
from __future__ import annotations

import io

import numpy as np
import pytest
from PIL import Image
from sqlmodel import select

from core.catalog import avatars, faces
from core.errors import ValidationFailed
from db.models import Avatar
from tests.test_avatars_api import BASE, app, key_of, login, new_kit, settings  # noqa: F401 - fixtures


def portrait(size=(300, 400)) -> bytes:
    """A grey photo with a distinct 8 px checker everywhere, so any crop can be told apart by its pixels."""
    w, h = size
    yy, xx = np.mgrid[0:h, 0:w]
    px = np.stack([(xx * 7) % 256, (yy * 5) % 256, ((xx + yy) * 3) % 256], axis=-1).astype(np.uint8)
    out = io.BytesIO()
    Image.fromarray(px).save(out, "PNG")
    return out.getvalue()


def same(crop, region) -> bool:
    """The crop shows that region (the stored photo is a JPEG, the crop is cut before it: a few levels apart)."""
    return crop.shape == region.shape and float(np.abs(crop.astype(int) - region.astype(int)).mean()) < 4


def person(**points) -> list:
    """An OpenPose-18 person (normalised x, y, confidence) with only the named keypoints."""
    index = {"nose": 0, "neck": 1, "r_eye": 14, "l_eye": 15, "r_ear": 16, "l_ear": 17}
    out = [None] * 18
    for name, (x, y) in points.items():
        out[index[name]] = [x, y, 0.9]
    return out


def test_the_portrait_fallback_and_the_detector_box():
    assert faces.portrait_box(300, 400) == (67, 24, 232, 189)            # 55 % of the width, 6 % from the top
    assert faces.portrait_box(400, 100) == (150, 0, 250, 100)            # never taller than the photo
    head = person(nose=(0.5, 0.3), r_eye=(0.45, 0.27), l_eye=(0.55, 0.27), r_ear=(0.4, 0.29), l_ear=(0.6, 0.29),
                  neck=(0.5, 0.45))
    left, top, right, bottom = faces.box_from_people(300, 400, [person(nose=(0.1, 0.9)), head])
    assert right - left == bottom - top                                  # square
    assert left < 0.4 * 300 and right > 0.6 * 300 and top < 0.27 * 400 < 0.3 * 400 < bottom   # ears, eyes inside
    assert faces.box_from_people(300, 400, [person(neck=(0.5, 0.4)), person(nose=(0.5, 0.3))]) is None
    assert faces.box_from_people(300, 400, []) is None
    with pytest.raises(ValidationFailed, match="inside the photo"):
        faces.check_box([0, 0, 301, 100], 300, 400)
    with pytest.raises(ValidationFailed, match="at least 32"):
        faces.check_box([0, 0, 20, 20], 300, 400)


def test_upload_makes_the_face_and_the_user_moves_it(login, services):
    a, b = login(), login()
    kit = new_kit(a)
    r = a.post(f"{BASE}/avatars", data={"brandKitId": str(kit), "name": "Sari"},
               files={"file": ("sari.png", portrait(), "image/png")})
    body = r.json()
    assert body["faceSource"] == "portrait" and body["faceBox"] == [67, 24, 232, 189]
    photo = np.asarray(Image.open(io.BytesIO(a.get(body["imageUrl"]).content)).convert("RGB"))
    face = np.asarray(Image.open(io.BytesIO(a.get(body["faceUrl"]).content)).convert("RGB"))
    assert same(face, photo[24:189, 67:232]) and not same(face, photo[32:197, 75:240])   # exactly that part
    assert b.get(body["faceUrl"]).status_code == 404                      # another user cannot fetch it

    moved = a.put(f"{BASE}/avatars/{body['id']}/face", json={"box": [10, 20, 110, 120]})
    assert moved.status_code == 200, moved.text
    assert (moved.json()["faceSource"], moved.json()["faceBox"]) == ("user", [10, 20, 110, 120])
    face = np.asarray(Image.open(io.BytesIO(a.get(moved.json()["faceUrl"]).content)).convert("RGB"))
    assert same(face, photo[20:120, 10:110])
    assert not services.store.exists(key_of(body["faceUrl"]))            # the old crop is gone
    bad = a.put(f"{BASE}/avatars/{body['id']}/face", json={"box": [250, 0, 350, 100]})
    assert bad.status_code == 422 and "inside the photo" in bad.json()["detail"]
    assert b.put(f"{BASE}/avatars/{body['id']}/face", json={"box": [10, 20, 110, 120]}).status_code == 404

    rotated = a.post(f"{BASE}/avatars/{body['id']}/crop", json={"rotate": 90})   # a new photo: a new face
    assert rotated.status_code == 200 and rotated.json()["faceSource"] == "portrait"
    assert rotated.json()["faceBox"] == list(faces.portrait_box(400, 300))
    face_key = key_of(rotated.json()["faceUrl"])
    assert a.delete(f"{BASE}/avatars/{body['id']}").status_code == 204
    assert not services.store.exists(face_key)


def test_the_detector_places_the_face_once_and_never_over_the_users(login, services):
    a = login()
    body = a.post(f"{BASE}/avatars", data={"brandKitId": str(new_kit(a)), "name": "Sari"},
                  files={"file": ("sari.png", portrait(), "image/png")}).json()
    seen = []

    def detect(image):   # the pose detector's interface: people of 18 normalised keypoints
        seen.append(image.size)
        return [person(nose=(0.3, 0.2), r_eye=(0.27, 0.18), l_eye=(0.33, 0.18))]

    with services.session() as s:
        avatar = s.get(Avatar, body["id"])
        avatars.refine_face(s, avatar=avatar, store=services.store, detect=detect)
        assert avatar.face_source == "detector" and seen == [(300, 400)]
        left, top, right, bottom = avatar.face_box
        assert left <= 0.27 * 300 and right >= 0.33 * 300 and top <= 0.18 * 400 <= bottom
        avatars.refine_face(s, avatar=avatar, store=services.store, detect=detect)   # once per photo
        assert seen == [(300, 400)]
        avatars.set_face(s, user=a.user, avatar_id=avatar.id, box=[0, 0, 64, 64], store=services.store)
        avatar.face_source = "portrait"   # as if the photo were new again: the detector may place it
        s.add(avatar)
        s.commit()
        avatars.refine_face(s, avatar=avatar, store=services.store, detect=lambda image: [])   # no head found
        assert avatar.face_source == "portrait" and avatar.face_box == [0, 0, 64, 64]
        assert len(list(s.exec(select(Avatar)))) == 1
