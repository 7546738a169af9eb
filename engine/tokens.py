"""Prompts that fit the text encoder's window, measured with the model's OWN tokenizer(s), not an estimate.

    budget = prompt_budget(settings)          # tokenizer-only load (no UNet, no torch), cached per process
    budget = engine.prompt_budget             # the loaded pipeline's tokenizers (same files, same counts)
    budget.limit                              # 75: CLIP's 77-token window minus the start and end markers
    budget.count("a person holding a mug")    # tokens without the markers; SDXL: the larger of its two tokenizers
    fitted = budget.fit(prompt, negative)     # FittedPrompt: what is kept, what was left out, the counts

SD 1.5 has one CLIP tokenizer; SDXL two (CLIP ViT-L and OpenCLIP bigG: the same BPE vocabulary, other
special tokens); every count here is the maximum over the family's tokenizers, so a prompt that fits fits
both encoders. diffusers would cut a longer prompt at the window silently; `fit` instead keeps whole
comma-separated phrases in their order (earlier phrases first: core orders them by importance) and leaves
out those that no longer fit; when even the first phrase is too long it keeps its leading words. Core can
also do its own ranked fitting with `budget.count` (core.prompts.fit_phrases's counting function).

Engine.render / text_to_image fit every prompt and negative prompt with the engine's budget before the
call; RenderResult.left_out / negative_left_out record what was cut (empty when core fitted it already).
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

_budgets: dict[tuple, "PromptBudget"] = {}
_lock = threading.Lock()


@dataclass(frozen=True)
class FittedPrompt:
    prompt: str
    negative_prompt: str
    left_out: tuple[str, ...] = ()            # phrases (or trailing words) of the prompt that did not fit
    negative_left_out: tuple[str, ...] = ()
    tokens: int = 0                           # tokens of the kept prompt, without the start/end markers
    negative_tokens: int = 0
    limit: int = 75

    def as_dict(self) -> dict:
        return {"prompt": self.prompt, "negative_prompt": self.negative_prompt, "left_out": list(self.left_out),
                "negative_left_out": list(self.negative_left_out), "tokens": self.tokens,
                "negative_tokens": self.negative_tokens, "limit": self.limit}


@dataclass
class PromptBudget:
    tokenizers: list[Any]
    window: int = field(init=False)
    limit: int = field(init=False)

    def __post_init__(self):
        self.window = min(int(t.model_max_length) for t in self.tokenizers)
        self.limit = self.window - 2          # <|startoftext|> and <|endoftext|>
        self._counters = [_counter(t) for t in self.tokenizers]

    def count(self, text: str) -> int:
        """Tokens of `text` without the start/end markers (the maximum over the tokenizers)."""
        return max(count(text) for count in self._counters)

    def fits(self, text: str) -> bool:
        return self.count(text) <= self.limit

    def fit_text(self, text: str) -> tuple[str, tuple[str, ...]]:
        """(kept text, what was left out): whole comma-separated phrases in order; see the module doc."""
        if self.fits(text):
            return text, ()
        kept: list[str] = []
        left: list[str] = []
        for phrase in (p.strip() for p in text.split(",")):
            if not phrase:
                continue
            if self.fits(", ".join(kept + [phrase])):
                kept.append(phrase)
            elif not kept:                        # the first phrase alone is too long: keep its leading words
                words, cut = phrase.split(), []
                while words and not self.fits(" ".join(words)):
                    cut.insert(0, words.pop())
                if words:
                    kept.append(" ".join(words))
                left.append(" ".join(cut))
            else:
                left.append(phrase)
        return ", ".join(kept), tuple(left)

    def fit(self, prompt: str, negative_prompt: str = "") -> FittedPrompt:
        kept, left = self.fit_text(prompt)
        neg, neg_left = self.fit_text(negative_prompt)
        return FittedPrompt(kept, neg, left, neg_left, self.count(kept), self.count(neg), self.limit)


def _counter(tokenizer):
    """A private copy of the tokenizer's `tokenizers` backend with padding and truncation off: counts are the
    same BPE as the pipeline's, without touching the state the pipeline's own calls set (diffusers pads to
    77 and truncates), and without transformers' too-long warning. Slow tokenizers count with tokenize()."""
    backend = getattr(tokenizer, "backend_tokenizer", None)
    if backend is None:
        return lambda text: len(tokenizer.tokenize(text))
    from tokenizers import Tokenizer

    copy = Tokenizer.from_str(backend.to_str())
    copy.no_padding()
    copy.no_truncation()
    return lambda text: len(copy.encode(text, add_special_tokens=False).ids)


def budget_of(pipe) -> PromptBudget:
    """The budget of a loaded pipeline (SD 1.5: tokenizer; SDXL: tokenizer and tokenizer_2)."""
    return PromptBudget([t for t in (getattr(pipe, "tokenizer", None), getattr(pipe, "tokenizer_2", None))
                         if t is not None])


def prompt_budget(settings) -> PromptBudget:
    """The budget for these settings' base model from its tokenizer files only (no UNet, no torch import):
    the same from_pretrained source the engine loads (a folder, MODEL_DIR, the cache, or a download of the
    tokenizer files alone). Missing base model: core.errors.ModelUnavailable, as for the engine."""
    from engine.config import EngineConfig
    from engine.sources import locate

    config = EngineConfig.from_settings(settings)
    key = (config.base, config.family, config.policy, config.tiny_dir)
    budget = _budgets.get(key)
    if budget is not None:
        return budget
    with _lock:
        budget = _budgets.get(key)
        if budget is None:
            if config.is_tiny:
                from engine.tiny import ensure_tiny_models

                ensure_tiny_models(config.tiny_dir, config.family)
            source = locate(config.base, config.policy)
            budget = _budgets[key] = PromptBudget([_tokenizer(source, config, sub) for sub in
                                                   (("tokenizer", "tokenizer_2") if config.family == "sdxl"
                                                    else ("tokenizer",))])
        return budget


def _tokenizer(source, config, subfolder: str):
    from transformers import CLIPTokenizer

    from engine.sources import load_failed

    try:
        return CLIPTokenizer.from_pretrained(source.path_or_id, subfolder=subfolder, **source.kwargs())
    except Exception as exc:  # noqa: BLE001 - one clear message
        raise load_failed(source, config.policy, exc) from exc


def fit_prompt(settings, prompt: str, negative_prompt: str = "") -> FittedPrompt:
    """prompt_budget(settings).fit(prompt, negative_prompt)."""
    return prompt_budget(settings).fit(prompt, negative_prompt)


def clear_budgets() -> None:
    with _lock:
        _budgets.clear()
