"""Messages of the shared pieces: stored files (core/storage.py, core/files.py), the apps (core/apps.py), output
sizes (core/sizes.py), prompt overrides (core/prompts.py) and the REST parameter checks (api/params.py)."""

EN = {
    "files.not_found": "File not found.",
    "apps.not_found": "No app {app_id!r}; the apps are {apps}.",
    # core/sizes.py: a bad OUTPUT_SIZES setting (for the admin), a size that is not offered
    "sizes.not_configured": "Image generation is not configured: OUTPUT_SIZES entry {entry!r} needs sides that are "
                            "multiples of 8 in {least}..{most}.",
    "sizes.unknown": "size must be one of {size_names}.",
    # core/prompts.py PromptOverrides
    "prompts.text_too_long": "'{override}' must be text of at most {most} characters.",
    "prompts.unknown_style": "Unknown style preset {preset!r}; choose one of {presets}.",
    # api/params.py
    "api.ids_invalid": "{param} must be {id_kind} separated by commas, like {id_example}; each a whole number "
                       "from 1 to {most} (got {got!r}).",
    "api.nul_character": "must not contain NUL characters (\\u0000)",
    "api.nul_in_file_name": "the file name must not contain NUL characters (\\u0000)",
}
