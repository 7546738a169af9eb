"""The ML room: rembg sessions, the Stable Diffusion + ControlNet OpenPose engine, the pose detector.

Heavy imports (rembg, onnxruntime, torch, diffusers, transformers, controlnet_aux) live here and only here,
inside functions, never at module top: importing `engine` or one of its modules costs nothing. core/ reaches
the engine lazily, inside the function that needs it. Everything is created on first use, cached per
process, guarded by a lock, and reused. Missing weights -> core.errors.ModelUnavailable, fast and with the
fix in the message. rembg weights are never downloaded; diffusion and detector weights are fetched from
the Hugging Face Hub only when MODEL_DOWNLOADS is on, HF_HUB_OFFLINE is unset and the Hub answers.

    engine.background   rembg sessions: one per (model setting, weights folder), masks for core.catalog.background
    engine.engines      get_engine / capabilities / models_state: the local engine or a hosted provider (core asks here)
    engine.requests     RenderRequest, RenderResult: what every engine takes and gives back
    engine.pipeline     the local Engine: render(micro-batch of poses [+ inpaint] [+ likeness]),
                        text_to_image, describe, capabilities, embed_images, fit_prompt; capabilities(settings)
    engine.providers    hosted engines (fal, Replicate, Hugging Face Inference) and the ENGINE_FALLBACK chain
    engine.capabilities what a batch will run (likeness, garment, pose check, inpaint, embeddings), no loading
    engine.adapters     IP-Adapters (face likeness, garment): probe without torch, attach at load (auto / true)
    engine.inpaint      the ControlNet inpaint pipelines from the same modules; restore() of the kept pixels
    engine.likeness     image-encoder embeddings + cosine, for identity and garment scores
    engine.tokens       prompt budgets measured with the model's own tokenizer(s): count, fit
    engine.checks       input checks (422 before any work)
    engine.detector     get_pose_detector(settings) -> detect(image): OpenPose-18 bodies as Pose.to_json() lists;
                        pose_check_state(settings): can the check run, and why not
    engine.build        loads the pipeline an EngineConfig describes (scheduler, LoRA, IP-Adapters, compile)
    engine.config       EngineConfig: the engine's settings as one hashable value (the cache key), size presets
    engine.sources      where weights come from (folder, MODEL_DIR, HF cache, Hub) and the missing-weights message
    engine.device       device/dtype choice; the CPU exact-batches mode
    engine.render_thread the one thread per process that owns torch (loads, renders, embeddings, pose detection),
                        with ENGINE_THREADS set before its first operation
    engine.tiny         tiny random-weight models written to disk (ENGINE=tiny, tests, smoke runs);
                        engine.tiny_text: its word-level CLIP BPE tokenizer
"""
