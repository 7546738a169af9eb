"""The pose library: pose templates in the database (templates: search, facets, edits, the shipped library,
success statistics), importing and exporting them (importing: files, detector photos, de-duplication), and the
pure OpenPose-18 model under poses/ (keypoints, renderer, transforms, similarity, generator), which knows
nothing of the database."""
