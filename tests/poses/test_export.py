import io
import json
import zipfile

import cv2
import numpy as np
import pytest

from core.errors import ValidationFailed
from core.library.poses.export import export_openpose_json, export_zip, openpose_document
from core.library.poses.importers import from_openpose_json
from core.library.poses.keypoints import Pose
from core.library.poses.render import render_skeleton


def test_openpose_json_round_trips_through_the_importer(library):
    selection = library[:5]
    data = export_openpose_json(selection, width=512, height=768)
    found = from_openpose_json(data)
    assert [c.label for c in found] == [t["id"] for t in selection]
    for cand, t in zip(found, selection):
        truth = Pose.from_json(t["keypoints"])
        assert cand.pose.present.tolist() == truth.present.tolist()
        assert np.nanmax(np.abs((cand.pose.xy() - truth.xy()) * (512, 768))) < 0.01


def test_openpose_document_marks_missing_joints_with_zero_confidence():
    doc = openpose_document(Pose.from_points([(0.5, 0.25)] + [None] * 17), 100, 200)
    flat = doc["people"][0]["pose_keypoints_2d"]
    assert len(flat) == 54 and flat[:3] == [50.0, 50.0, 1.0] and flat[3:6] == [0.0, 0.0, 0.0]
    assert doc["canvas_width"] == 100 and doc["canvas_height"] == 200


def test_zip_holds_a_png_and_json_per_template(library):
    selection = [(t["id"], t["keypoints"]) for t in library[:3]] + [{"id": "a/b c", "keypoints": library[4]["keypoints"]}]
    with zipfile.ZipFile(io.BytesIO(export_zip(selection, width=256, height=384))) as zf:
        names = sorted(zf.namelist())
        assert "a_b_c.png" in names and "a_b_c.json" in names and len(names) == 8
        png = zf.read(f"{library[0]['id']}.png")
        img = cv2.imdecode(np.frombuffer(png, np.uint8), cv2.IMREAD_COLOR)[:, :, ::-1]
        assert np.array_equal(img, render_skeleton(library[0]["keypoints"], 256, 384))
        assert json.loads(zf.read(f"{library[0]['id']}.json"))["id"] == library[0]["id"]


def test_objects_with_attributes_are_accepted(library):
    class Row:
        id = "row-1"
        keypoints_json = library[0]["keypoints"]

    assert json.loads(export_openpose_json([Row()]))[0]["id"] == "row-1"


def test_empty_or_bad_selection():
    with pytest.raises(ValidationFailed):
        export_zip([])
    with pytest.raises(ValidationFailed):
        export_openpose_json([{"name": "no id"}])
