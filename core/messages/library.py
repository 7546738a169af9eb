"""The pose library (core/library/): curating templates, importing and exporting poses, the shipped library file,
and the pose geometry behind them (keypoints, transforms, skeleton images, de-duplication)."""

EN = {
    # core/library/templates.py: the library in the database (browse, curate); "Pose template 3 not found." is
    # records.not_found with record="Pose template", "tags cannot be empty." records.field_empty
    "templates.sort_unknown": "sort must be one of {sorts}.",
    "templates.admins_only": "Only the data team (admins) can change pose templates.",
    "templates.admins_only_export": "Only the data team (admins) can export pose templates.",
    "templates.none_exist": "None of the selected templates exist.",
    "templates.already_in_library": "This exact pose is already in the library.",
    "templates.none_selected": "Select at least one template.",

    # core/library/importing.py: one import of pose files, and its report
    "importing.too_large": "This file is {size:.1f} MB; pose files can be at most {most:short} MB.",
    "importing.category_unknown": "category must be one of {categories}.",
    "importing.placement_unknown": "placement must be one of {placements}.",
    "importing.no_files": "Choose at least one file.",
    "importing.too_many_files": "Import at most {most} files at once.",
    "importing.no_person": "No person found in this file.",

    # who a candidate pose of an imported file is (the report's "person"; an OpenPose document's own id is shown as is)
    "poses.person": "person {person}",
    "poses.person_in_document": "document {document}, person {person}",
    # why a candidate was skipped (core/library/poses/similarity.py dedupe)
    "poses.too_few_keypoints": "only {n} keypoints (need {need})",
    "poses.duplicate_of_existing": "duplicate of existing pose (distance {distance:.3f})",
    "poses.duplicate_of_candidate": "duplicate of candidate {candidate} (distance {distance:.3f})",

    # core/library/poses/importers.py: OpenPose JSON and skeleton images
    "poses.json_too_large": "The JSON file is too large.",
    "poses.not_json": "Not a JSON file: {why}",
    "poses.no_people_list": "Document {document} has no 'people' list (OpenPose JSON expected).",
    "poses.keypoint_count": "{label}: pose_keypoints_2d must hold 54 (COCO-18) or 75 (BODY_25) numbers, got {n}.",
    "poses.keypoints_not_numbers": "{label}: keypoints must be numbers.",
    "poses.keypoints_not_finite": "{label}: keypoints must be finite numbers.",
    "poses.needs_canvas_size": "{label}: pixel coordinates need the canvas size (canvas_width and canvas_height).",
    "poses.skeleton_too_large": "The skeleton image is too large.",
    "poses.not_readable_image": "Not a readable image.",
    "poses.not_rgb": "Expected an RGB image.",

    # core/library/poses/keypoints.py: one pose, 18 joints
    "poses.wrong_count": "A pose has {count} keypoints, got {got}.",
    "poses.not_a_keypoint": "Keypoint {joint} must be a Keypoint or None.",
    "poses.keypoint_not_finite": "Keypoint {joint} has a non-finite coordinate.",
    "poses.confidence_out_of_range": "Keypoint {joint} confidence must be in 0..1.",
    "poses.point_shape": "Each keypoint is [x, y] or [x, y, confidence].",
    "poses.coordinates_not_numbers": "Keypoint coordinates must be numbers.",
    "poses.array_shape": "Expected an array of shape (18, 2|3), got {shape}.",
    "poses.keypoints_not_json": "Keypoints are not valid JSON.",
    "poses.keypoints_not_list": "Keypoints must be a list of 18 entries.",
    "poses.aspect_malformed": "Aspect must look like '2:3', got {aspect!r}.",
    "poses.aspect_not_positive": "Aspect must be positive, got {aspect!r}.",

    # core/library/poses/transforms.py, render.py, export.py
    "poses.scale_not_positive": "Scale factor must be positive.",
    "poses.no_keypoints": "The pose has no keypoints.",
    "poses.margin_out_of_range": "Margin must be in 0..0.5.",
    "poses.size_not_integers": "Width and height must be integers.",
    "poses.size_out_of_range": "Width and height must be within 1..{most} px.",
    "poses.export_incomplete": "Every exported template needs an id and keypoints.",
    "poses.export_too_many": "Export at most {most} templates at once.",
    "poses.export_nothing": "Nothing selected to export.",

    # core/library/poses/library.py: the shipped library file (assets/poses/library.json)
    "library.template_not_object": "A template must be an object.",
    "library.field_type": "Template {template}: '{key}' must be a {type_name}.",
    "library.unknown_value": "Template {template}: unknown {field_name} {value!r}.",
    "library.tags_not_strings": "Template {template}: tags must be strings.",
    "library.file_missing": "Pose library not found at {path}; run python -m core.library.poses.generator "
                            "--out assets/poses/library.json",
    "library.no_templates_list": "The pose library has no 'templates' list.",
    "library.duplicate_id": "Duplicate template id {id}.",
}
