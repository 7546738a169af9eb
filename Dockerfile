# Image for a Hugging Face Docker Space, or any Docker host:
#   docker build -t avatar-pose .
#   docker run -p 7860:7860 -v avatar-pose-data:/data avatar-pose
# Serves the Gradio UI and the REST API on 0.0.0.0:7860 as the non-root user 1000 (what Spaces runs).
# A batch worker is the same image with another command, sharing the database, Redis and files:
#   docker run -e DATABASE_URL=... -e REDIS_URL=... -v shared-files:/data avatar-pose python -m jobs.worker
# (On a single Space no worker is needed: without REDIS_URL the app renders batches itself.)
FROM python:3.11-slim

# System libraries the wheels don't bundle: torch links the system OpenMP runtime (libgomp.so.1).
# opencv-python-headless needs only zlib (already in the base image) - no libGL/libglib for the
# headless build - and onnxruntime, psycopg[binary] and Pillow bundle what they need.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libgomp1 \
    && rm -rf /var/lib/apt/lists/*

RUN useradd -m -u 1000 user
USER user
ENV HOME=/home/user \
    PATH=/home/user/.local/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    HOST=0.0.0.0 \
    PORT=7860
WORKDIR /home/user/app

# Dependencies first, so code changes don't reinstall them.
COPY --chown=user requirements.txt .
RUN pip install --no-cache-dir --user -r requirements.txt

COPY --chown=user . .
RUN mkdir -p /home/user/app/data/files

EXPOSE 7860

# Data: /data when it exists and is writable (Spaces persistent storage, or a mounted volume),
# otherwise ./data inside the app folder (lost with the container). DATABASE_URL / STORAGE_DIR set
# by you always win.
ENTRYPOINT ["/bin/sh", "-c", "if [ -d /data ] && [ -w /data ]; then : \"${DATABASE_URL:=sqlite:////data/app.db}\"; : \"${STORAGE_DIR:=/data/files}\"; export DATABASE_URL STORAGE_DIR; fi; exec \"$@\"", "--"]
CMD ["python", "app.py"]
