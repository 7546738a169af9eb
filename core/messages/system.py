"""core/system.py: the System page (admins) and the banner everyone else sees when something is off."""

EN = {
    "system.admin_only": "The System page is for whoever runs this server (admins only).",
    "system.notice_generation_off": "Image generation is not set up on this server yet: the image model is "
                                    "missing. Ask whoever runs it to open the System page.",
    "system.notice_likeness_off": "Avatar likeness is off on this server: photos will not show your avatar's "
                                  "own face.",
    "system.notice_pose_check_off": "The pose check is off on this server: images are shown as \"not checked\".",
    "system.notice_background_off": "Background removal is off on this server: upload product photos that are "
                                    "already cut out (PNG or WebP with a transparent background).",
}
