"""The shop's own records (core/catalog): brand kits, avatars (+ face), AI avatars, products, background, fonts."""

_ADVICE = ("Use a photo of the product on a plain background with some space around it, "
           "then remove the background again.")

EN = {
    # core/catalog/brand_kits.py (the colour and font checks are pydantic field validators: invalid())
    "brand_kits.colors_count": "give 1 to 10 colours (got {got})",
    "brand_kits.color_invalid": "{color!r} is not a colour in #RRGGBB form, e.g. #FF5733",
    "brand_kits.fonts_count": "pick 1 to 3 fonts (got {got})",
    "brand_kits.font_unknown": "{font!r} is not one of our fonts: {fonts}",
    "brand_kits.font_twice": "the same font is listed twice",
    "brand_kits.font_object": "a font is a family name, or an object with \"family\" (the name) and \"weights\" (e.g. [400, 700]) and nothing else",
    "brand_kits.font_weights": "the weights of {font!r} are numbers from 100 to 900 in hundreds, e.g. [400, 700]",
    "brand_kits.default_required": "Pick another kit as the default instead; you always have one default kit.",
    # core/catalog/avatars.py
    "avatars.brand_kit_required": "An avatar always belongs to one of your brand kits.",
    "avatars.crop_incomplete": "A crop needs x, y, width and height together.",
    "avatars.crop_outside": "The crop box ends at {right} × {bottom} px but the image is {width} × {height} px.",
    "avatars.nothing_to_do": "Nothing to do: give a rotation, a crop box, or both.",
    # core/catalog/faces.py
    "faces.box_not_numbers": "A face box is four whole numbers: left, top, right, bottom (px).",
    "faces.box_outside": "The face box {left}, {top}, {right}, {bottom} must lie inside the photo "
                         "(0, 0, {width}, {height}).",
    "faces.box_too_small": "The face box must be at least {side} × {side} px.",
    # core/catalog/avatar_ai.py
    "avatar_ai.describe_first": "Describe the model, or pick at least one trait.",
    "avatar_ai.candidate_gone": "Candidate not found: it was already chosen, discarded, or expired. Generate again.",
    "avatar_ai.candidate_not_found": "Candidate not found.",
    # core/catalog/products.py
    "products.no_files": "Choose at least one file.",
    "products.too_many_files": "{n} files at once is too many; upload at most {most}.",
    "products.removal_running": "Background removal is already running for this product.",
    "products.removal_failed": "Background removal failed unexpectedly.",
    "products.bg_server_problem": "Background removal is not available on this server right now. Your photo is "
                                  "kept and the removal's credits came back: try again later, or upload a photo "
                                  "that is already cut out (PNG or WebP with a transparent background).",
    # core/catalog/background.py: why a cut-out is flagged (kept on the product as bg_error)
    "background.nothing_found": "No product was found in this photo (the cut-out covers {percent:.1f}% of it), "
                                "or the product fills the whole frame. " + _ADVICE,
    "background.not_removed": "The cut-out covers {percent:.0f}% of the photo, so the background was probably "
                              "not removed. " + _ADVICE,
    # core/catalog/fonts.py
    "fonts.unknown_family": "Unknown font family {family!r}. Choose one of: {families}.",
    "fonts.unknown_family_none": "Unknown font family {family!r}. Choose one of: none installed.",
    "fonts.color_invalid": "{option} must be a colour like #1A2B3C, got {value!r}.",
    "fonts.number_out_of_range": "{option} must be a whole number from {least} to {most}, got {value!r}.",
    "fonts.text_too_long": "Preview text is limited to {most} characters.",
}
