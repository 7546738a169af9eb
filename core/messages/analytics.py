"""Analytics (core/analytics): the dashboard's period checks, the recorder's input checks and the notes that say
how the savings are counted (report.assumptions, shown under the dashboard)."""

EN = {
    # --- core/analytics/report.py ---------------------------------------------------------------------------------
    "analytics.month_invalid": "{which} must be a month written YYYY-MM from the year 1000 to 9999, like 2025-01; "
                               "got {value!r}.",
    "analytics.month_not_text": "{which} must be a month written YYYY-MM, like 2025-01.",
    "analytics.from_after_to": "from ({lo}) is after to ({hi}).",
    "analytics.too_many_months": "Pick at most {most} months; {start} to {end} is {count:,}.",
    "analytics.note_shoot": "A product photoshoot with a model costs {low:rp}–{high:rp} and delivers about {images} "
                            "edited photos, so each accepted image is counted as {per:rp} saved (up to {per_high:rp}).",
    "analytics.note_minutes": "Each accepted image saves {image_minutes:short} minutes (the shoot day and retouching, "
                              "per photo); each poster {poster_minutes:short} minutes of layout work. Avatars are "
                              "counted, not valued.",
    "analytics.note_net": "Net saving = saving − the subscription ({subscription:rp} a month) for each month of the "
                          "period.",
    "analytics.note_provider": "Images rendered by a hosted provider are priced per image instead: fal {fal:rp}, "
                               "Replicate {replicate:rp}, Hugging Face {hf:rp} (one per attempt).",
    "analytics.note_gpu": "GPU time is priced at {rate:rp} an hour (an on-demand cloud H100); it is the engine time of "
                          "finished images (failed renders are not timed).",
    "analytics.note_months": "Months are counted in UTC{offset}.",
    # --- core/analytics/metrics.py --------------------------------------------------------------------------------
    "analytics.design_type_invalid": "design_type must be one of {known}, got {value!r}.",
    "analytics.format_invalid": "A format is 1-32 characters, got {value!r}.",
    "analytics.count_invalid": "An export has at least one item, got {value!r}.",
}
