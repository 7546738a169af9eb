"""Posters (core/posters): the service's refusals (service.py), the drawing's bad input (render_poster, crop.py,
palette.py) and unknown formats or layouts (formats.py, layouts.py). Records not found are records.not_found."""

EN = {
    # core/posters/service.py
    "posters.unknown_format": "Unknown format {key!r}: choose from {known}.",
    "posters.unknown_layout": "Unknown layout {key!r}: choose from {known}.",
    "posters.over_limit": "That is {n} posters ({images} images x {formats} formats x {layouts} layouts); one request "
                          "makes at most {most}.",
    "posters.not_finished": "Result {id} has no finished image ({result_status}).",
    "posters.not_enough_credits": "Not enough credits: {n} posters need {need} credits ({each} each) and you have "
                                  "{have}.",
    "posters.kit_deleted": "Result {id}'s brand kit was deleted; pick a brand kit.",
    "posters.image_missing": "Result {id}'s image file is missing; render it again.",
    "posters.nothing_to_export": "Pick at least one poster to export.",
    # core/posters/__init__.py render_poster
    "posters.photo_empty": "photo must be a non-empty image.",
    # core/posters/crop.py
    "crop.keypoints_count": "keypoints must be a list of {count} entries [x, y, confidence] or null.",
    "crop.keypoint_invalid": "Each keypoint must be [x, y, confidence] or null.",
    "crop.keypoints_not_finite": "Keypoints must be finite numbers.",
    "crop.box_invalid": "product_box must be (x0, y0, x1, y1) in photo pixels.",
    "crop.box_empty": "product_box must have x1 > x0 and y1 > y0 and overlap the photo.",
    # core/posters/palette.py
    "palette.bad_colour": "Brand colours must look like #1A2B3C, got {colour!r}.",
    "palette.no_colours": "A brand needs at least one colour.",
    # core/posters/formats.py, layouts.py
    "formats.unknown": "Unknown poster format {key!r}. Choose one of: {known}.",
    "layouts.unknown": "Unknown poster layout {key!r}. Choose one of: {known}.",
}
