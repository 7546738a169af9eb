"""Generation (core/generation): planning a batch, cancelling, rating, retrying, exporting, compositing, and the
reasons a pose failed (quality.py's pose check, render.py's failures, stored per pose as error_code/error_params).

A pose's or a batch's status appears as `pose_status` / `batch_status`, a product's background removal as
`bg_status`, an avatar's gender as `gender`, so the reader's language translates those words (WORDS in
ui/locales/errors_generation.py). Records not found are records.not_found.
"""

EN = {
    # --- core/generation/state.py, batches.py, projects.py --------------------------------------------------------
    "generation.no_cutout": "“{product}” has no cut-out yet (background removal: {bg_status}). Wait for it, or retry "
                            "the removal on the Products page.",
    "generation.nothing_to_cancel": "Generation {id} is already {batch_status}; there is nothing to cancel.",
    "generation.show_invalid": "show must be one of {known}.",
    "generation.rating_invalid": "A rating is a whole number from 1 to 5, got {value}.",
    "generation.rate_unfinished": "Only finished images can be rated; this one is {pose_status}.",
    "generation.project_name_required": "A project needs a name.",
    # --- core/generation/planning.py ------------------------------------------------------------------------------
    "planning.one_way": "give either poseDistribution (poses per category) or templateIds, not both",
    "planning.distribution_empty": "poseDistribution needs at least one category with a number of poses >= 0",
    "planning.no_poses": "ask for at least one pose",
    "planning.total_vs_distribution": "totalPoses is {total} but the poseDistribution adds up to {wanted}",
    "planning.total_vs_templates": "totalPoses is {total} but templateIds has {wanted}",
    "planning.not_for_gender": "“{category}” has no active poses for a {gender} avatar; choose from {known}.",
    "planning.unknown_category": "Unknown pose category {categories}: choose from {known}.",
    "planning.unknown_categories": "Unknown pose categories {categories}: choose from {known}.",
    "planning.too_few_poses": "“{category}” has {have} active poses and you asked for {n}. Ask for fewer, or allow "
                              "repeats (a repeated pose gets a different seed).",
    "planning.too_many_poses": "A batch can have at most {most:,} poses; you asked for {n:,}.",
    "planning.batch_cancelled": "Generation {id} was cancelled; start a new batch instead.",
    "planning.nothing_to_retry": "Generation {id} has no failed poses to retry.",
    "planning.retry_blocked": "Generation {id}'s failed poses could not be rendered because {why}. Retry them once "
                              "the model is on this server.",
    "planning.still_rendering": "Result {id} is still {pose_status}; re-render it once it has finished.",
    # --- core/generation/export.py --------------------------------------------------------------------------------
    "export.not_in_generation": "Result {id} is not part of generation {generation}.",
    "export.unfinished": "Result {id} has no image yet ({n} of the selection are not finished).",
    "export.nothing_finished": "Generation {id} has no finished images to export yet.",
    "export.no_image": "Result {id} has no image ({pose_status}).",
    # --- core/generation/compositing.py ---------------------------------------------------------------------------
    "compositing.box_invalid": "The product box must match the product and lie inside the image.",
    "compositing.unknown_placement": "Unknown placement {placement!r}; expected one of {known}.",
    "compositing.image_invalid": "image must be a PIL image.",
    "compositing.cutout_required": "A {placement} product needs its cut-out image.",
    "compositing.cutout_transparent": "The product cut-out is fully transparent.",
    # --- core/generation/quality.py: what the check of one image found --------------------------------------------
    "quality.not_image": "is_blank takes a PIL image.",
    "quality.threshold_range": "The quality threshold must be within 0..1.",
    "quality.blank": "blank image (black or uniform, e.g. blocked by the safety checker)",
    "quality.not_checked": "not checked: no pose detector",
    "quality.template_empty": "not checked: the template has no keypoints",
    "quality.no_person": "no person found in the image",
    "quality.nobody_matched": "no person found",
    "quality.joints": "{matched} of {expected} template joints match (PCK@{alpha:short} torso)",
    "quality.below_threshold": "pose score {score:.2f} below threshold {threshold:.2f}: {detail}",
    "quality.passed": "pose score {score:.2f}: {detail}",
    # --- core/generation/render.py, batches.py, checks.py: why a pose failed or a check is off -------------------
    "render.cancelled": "Cancelled.",
    "render.template_deleted": "Its pose template was deleted from the library before it was rendered.",
    "render.check_failed": "Pose check failed after {attempts} attempts: {reason}",
    "render.broken": "{what} ({error}); the server's log has the details.",
    "render.engine_failed": "The engine failed while rendering",
    "render.detector_failed": "The pose detector failed",
    "render.model_missing": "{subject} is not on this server and cannot be downloaded now ({reason})",
    "checks.detector_not_loaded": "the pose detector did not load",
    "checks.likeness_unknown": "the engine could not say whether likeness is available",
    "checks.pose_check_unknown": "the engine could not say whether the pose check is available",
}

EN.update({
    # --- core/generation/identity.py: is it the avatar's face ----------------------------------------------------
    "identity.score": "identity {score:.2f} (the avatar's face against the image's, CLIP image embeddings)",
    "identity.below_threshold": "identity {score:.2f} below threshold {threshold:.2f}: the face does not look "
                                "enough like the avatar",
    "identity.no_reference": "identity not checked: no avatar face to compare with",
    "identity.likeness_off": "identity not checked: likeness is off (IP_ADAPTER=false)",
    "identity.no_encoder_engine": "identity not checked: this engine has no image encoder",
    "identity.no_face": "identity not checked: the pose shows no face",
    "identity.not_checked": "identity not checked: {reason}",
    "identity.encoder_failed": "identity not checked: the image encoder failed ({error})",
    "render.identity_failed": "Identity check failed after {attempts} attempts: {reason}",
})

EN.update({
    # --- core/generation/product.py: the product in the image, and what reached it ------------------------------
    "product.exact": "product pixels exact: {pct:.2f} % of {pixels:,} opaque pixels",
    "product.expansion": "outline grown by {pct:.1f} % of the product's area (background-removal mask on its box)",
    "product.expansion_not_checked": "outline growth not checked: {reason}",
    "product.no_rembg_settings": "no background-removal model was given",
    "product.nothing_opaque": "the cut-out has no fully opaque pixel",
    "product.rembg_failed": "the background-removal model failed ({error})",
    "product.colour": "garment colours {score:.2f} (histogram intersection with the cut-out, 1 = the same)",
    "product.clip": "garment CLIP similarity {score:.2f} (image embeddings of the cut-out and the worn region)",
    "product.clip_not_checked": "garment CLIP similarity not checked: {reason}",
    "product.no_encoder": "this engine has no image encoder",
    "product.encoder_failed": "the image encoder failed ({error})",
    "product.garment_off_canvas": "the garment's body region lies outside this frame",
    "product.worn_region": "worn: warped onto the {region} and redrawn there",
    "product.bag_in_hand": "a bag is carried: placed at the hand and generated around",
    "product.spot_note": "placement: {note}",
    "product.prompt_only": "product not drawn, described in the prompt only: {why}",
    "product.paste_mode_worn": "PRODUCT_MODE=paste draws worn products from the prompt alone",
    "product.no_region": "a worn {product_type} has no body region to draw it on",
    "product.no_cutout": "the product has no cut-out",
    "product.no_joints": "the pose lacks the joints of the {region}",
    "product.not_drawn": "placement {placement} draws no product",
})
