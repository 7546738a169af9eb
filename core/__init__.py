"""The domain: plain Python + Pillow/numpy. No gradio, fastapi, rq, torch or diffusers at import time."""
