"""Prompts that fit (issue 13): token counts from the model's own tokenizer(s), the tiny tokenizer's word-level
vocabulary, fitting whole phrases, and the engine rendering exactly the fitted prompt."""
from __future__ import annotations

import json
import re

import numpy as np
import pytest

from core.errors import ModelUnavailable
from engine.pipeline import RenderRequest, get_engine, loaded_engines
from engine.tiny import tiny_paths
from engine.tiny_text import WORDS, tiny_vocab
from engine.tokens import PromptBudget, fit_prompt, prompt_budget
from tests.engine.engine_kit import kit_root, pixels, settings, skeleton

pytestmark = pytest.mark.filterwarnings("ignore:__array__ implementation doesn't accept a copy:DeprecationWarning")
LONG = ("a young Southeast Asian woman in her early twenties, holding the Glow Serum bottle in her left hand, "
        "wearing a batik shirt and a hijab, standing, three quarter view, arms relaxed at the sides, "
        "sunlit cafe with wooden tables and green plants, cozy home interior, natural window light, "
        "warm golden light, cozy inviting atmosphere, high quality photo, sharp focus, detailed skin texture, "
        "realistic, 8k, soft shadows, bokeh, editorial fashion magazine style, vibrant colors")


def pieces(text: str) -> int:
    """CLIP's pre-tokens: lower-cased letter runs, single digits, punctuation runs."""
    return len(re.findall(r"[a-z]+|[0-9]|[^\sa-z0-9]+", text.lower()))


@pytest.fixture(scope="module")
def tokenizer():
    from transformers import CLIPTokenizer

    base, _ = tiny_paths(kit_root() / "tiny", "sd15")
    prompt_budget(settings())                                         # builds the tiny models when needed
    return CLIPTokenizer.from_pretrained(base / "tokenizer", local_files_only=True)


def test_the_tiny_tokenizer_counts_words_not_bytes(tokenizer):
    ids = tokenizer("a person holding a red mug, studio photo").input_ids
    assert len(ids) == 9 + 2 and ids[0] == tokenizer.bos_token_id and ids[-1] == tokenizer.eos_token_id
    assert all(len(tokenizer(w, add_special_tokens=False).input_ids) == 1 for w in set(WORDS.split()))
    assert len(tokenizer("Glowserum", add_special_tokens=False).input_ids) > 1          # rare words split
    tokens = tokenizer("kebaya ✨ Rp 150.000", add_special_tokens=False).input_ids      # anything encodes
    assert tokens and tokenizer.unk_token_id not in tokens
    from core.prompts import NEGATIVE, QUALITY_WORDS

    for text in (NEGATIVE, QUALITY_WORDS):        # the app's own words: one token per CLIP pre-token
        assert len(tokenizer(text, add_special_tokens=False).input_ids) == pieces(text)
    encoder = json.loads((tiny_paths(kit_root() / "tiny", "sd15")[0] / "text_encoder" / "config.json").read_text())
    assert encoder["vocab_size"] == len(tiny_vocab())


@pytest.mark.parametrize("engine,encoders", [("tiny", 1), ("tiny-sdxl", 2)])
def test_the_budget_loads_tokenizers_only_and_matches_the_pipeline(engine, encoders):
    s = settings(engine=engine)
    before = set(loaded_engines())
    budget = prompt_budget(s)
    assert set(loaded_engines()) == before                                 # no pipeline was loaded for it
    assert prompt_budget(s) is budget and len(budget.tokenizers) == encoders
    assert (budget.window, budget.limit) == (77, 75)
    assert budget.count("a person holding a red mug, studio photo") == 9
    assert budget.count(LONG) == pieces(LONG) + 1                          # "tables" is two: table + s
    pipe_budget = get_engine(s).prompt_budget
    for text in (LONG, "kebaya ✨", ""):
        assert pipe_budget.count(text) == budget.count(text)


def test_fit_keeps_whole_phrases_in_order_and_says_what_was_left_out():
    budget = prompt_budget(settings())
    fitted = budget.fit(LONG, "blurry, " + LONG)
    assert budget.count(LONG) > 75 and fitted.tokens <= 75 and fitted.negative_tokens <= 75
    phrases = [p.strip() for p in LONG.split(",")]
    kept = fitted.prompt.split(", ")
    assert kept == [p for p in phrases if p not in fitted.left_out]         # the rest, in its order
    assert fitted.left_out and set(fitted.left_out) <= set(phrases)
    assert fitted.left_out[-1] == "vibrant colors" and kept[0] == phrases[0]
    assert fitted.negative_prompt.startswith("blurry, a young") and fitted.negative_left_out
    assert fitted.tokens == budget.count(fitted.prompt) and fitted.limit == 75
    json.dumps(fitted.as_dict())                                            # stored as is in a result's record
    short = budget.fit("a person", "")
    assert (short.prompt, short.left_out, short.negative_prompt, short.tokens) == ("a person", (), "", 2)


def test_a_first_phrase_longer_than_the_window_keeps_its_leading_words():
    budget = prompt_budget(settings())
    words = ("red " * 60 + "mug " * 30).split()
    fitted = budget.fit(" ".join(words) + ", studio photo")
    assert fitted.prompt == " ".join(words[:75])
    assert fitted.left_out == (" ".join(words[75:]), "studio photo")


def test_the_engine_renders_the_fitted_prompt_and_records_the_cut():
    engine = get_engine(settings())
    result = engine.render([RenderRequest(LONG, skeleton(), 11, negative_prompt="blurry")])[0]
    fitted = engine.fit_prompt(LONG, "blurry")
    assert result.left_out == fitted.left_out and result.left_out and result.negative_left_out == ()
    direct = engine.render([RenderRequest(fitted.prompt, skeleton(), 11, negative_prompt="blurry")])[0]
    assert direct.left_out == ()
    assert np.array_equal(pixels(direct.image), pixels(result.image))     # exactly what was rendered
    assert engine.prompt_budget.count("a person") == 2                     # the pipeline's padding left no trace


def test_fit_prompt_for_a_model_that_is_not_here_is_a_503():
    s = settings(engine="sd15", sd15_base_model="acme/no-such-model")
    with pytest.raises(ModelUnavailable, match="'acme/no-such-model' is not on this server") as err:
        fit_prompt(s, "a person")
    assert err.value.status == 503


def test_budget_of_two_tokenizers_is_the_larger_count_and_the_smaller_window(tmp_path):
    """A second, byte-level CLIP tokenizer (one token per character, the old tiny vocabulary) with a 20-token
    window: counts are the larger of the two, the limit the smaller window's."""
    from transformers import CLIPTokenizer

    symbols = [k for k in tiny_vocab() if len(k.removesuffix("</w>")) == 1]
    vocab = {s: i for i, s in enumerate(symbols + ["<|startoftext|>", "<|endoftext|>"])}
    (tmp_path / "vocab.json").write_text(json.dumps(vocab, ensure_ascii=False), encoding="utf-8")
    (tmp_path / "merges.txt").write_text("#version: 0.2\n", encoding="utf-8")
    (tmp_path / "tokenizer_config.json").write_text(json.dumps({"model_max_length": 20}))
    bytes_level = CLIPTokenizer.from_pretrained(tmp_path)
    budget = PromptBudget([prompt_budget(settings()).tokenizers[0], bytes_level])
    assert budget.limit == 18 and budget.count("a person") == 7            # a + p-e-r-s-o-n
    assert budget.fit("a person, red mug, studio").prompt == "a person, red mug"
