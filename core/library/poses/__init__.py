"""Pose templates: the OpenPose-18 keypoint model, a ControlNet-exact skeleton renderer, transforms,
similarity, importers, export and the generator of the shipped library (numpy + cv2 only).

    keypoints.py   Pose / Keypoint, layout constants, JSON (de)serialisation
    render.py      draw_bodypose, render_skeleton, render_preview (== controlnet_aux 0.0.10 pixels)
    transforms.py  mirror, translate, scale, fit_to_aspect, pixel conversion
    similarity.py  compare / similarity / distance_matrix / dedupe (torso-normalised)
    importers.py   from_openpose_json, from_skeleton_image
    export.py      export_openpose_json, export_zip
    library.py     load_library, vocabulary (categories, placements, ...)
    generator.py   python -m core.library.poses.generator --out assets/poses/library.json
                   (body.py, rig.py, presets.py, catalog.py: the 3D body and the recipes)
"""
from core.library.poses.keypoints import COLORS, LIMBS, NAMES, Keypoint, Pose, as_pose, parse_aspect
from core.library.poses.render import draw_bodypose, render_preview, render_skeleton
from core.library.poses.similarity import DEDUP_THRESHOLD, compare, dedupe, distance_matrix, is_duplicate, similarity
from core.library.poses.transforms import fit_to_aspect, mirror, scale, translate

__all__ = [
    "COLORS", "LIMBS", "NAMES", "Keypoint", "Pose", "as_pose", "parse_aspect",
    "draw_bodypose", "render_preview", "render_skeleton",
    "DEDUP_THRESHOLD", "compare", "dedupe", "distance_matrix", "is_duplicate", "similarity",
    "fit_to_aspect", "mirror", "scale", "translate",
]
