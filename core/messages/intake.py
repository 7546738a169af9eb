"""Image intake (core/images): what is wrong with an upload, and the limit it broke."""

_ACCEPTED = "Please upload a JPEG, PNG, WebP, HEIC or AVIF image."

EN = {
    "intake.empty": "This file is empty (0 bytes). " + _ACCEPTED,
    "intake.not_a_picture": "This file is not a picture we can read. " + _ACCEPTED,
    "intake.not_a_picture_like": "This file is not a picture we can read (it looks like {looks_like}). " + _ACCEPTED,
    "intake.too_large": "This file is {size:bytes}; {kinds} can be at most {limit:bytes}.",
    "intake.just_over": "This file is just over {limit:bytes}; {kinds} can be at most {limit:bytes}.",
    "intake.over": "This file is over {limit:bytes}; {kinds} can be at most {limit:bytes}.",
    "intake.damaged": "This {format} file is damaged or incomplete, so we can't open it (it may have been cut off "
                      "while saving or uploading). Please save or export it again and re-upload.",
    "intake.side_too_long": "This image is {width} × {height} pixels; the longest side can be at most {most} pixels.",
    "intake.too_many_pixels": "This image is {width} × {height} pixels ({megapixels:short} megapixels); it can have at "
                              "most {most:short} megapixels.",
    "intake.bomb": "This image is larger than {most:short} megapixels, the most we accept.",
}
