"""The domain: plain Python + Pillow/numpy. No gradio, fastapi, rq, torch or diffusers at import time.

Rooms (each sub-package's docstring says what it owns): accounts, catalog, library, generation, posters,
analytics; apps.py looks across them. The small shared parts sit here: settings (the only reader of the
environment), errors (the one module engine/ may import), records, storage, files, schemas, sizes, prompts,
images (the one image intake). Arrows point down: ui/api -> jobs -> core -> db/engine.
"""
