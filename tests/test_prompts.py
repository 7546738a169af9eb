"""core.prompts: deterministic prompts from brand kit, avatar, product and template; overrides; CLIP's limit."""
from __future__ import annotations

import re

import pytest

from core import prompts
from core.catalog.avatars import AGE_RANGES, ETHNICITIES, STYLES, AvatarTraits
from core.catalog.brand_kits import TONES
from core.errors import ValidationFailed
from core.catalog.products import PLACEMENTS, PRODUCT_TYPES
from core.prompts import TOKEN_LIMIT, Prompt, PromptOverrides, avatar_prompt, build_prompt, estimate_tokens
from db.models import Avatar, BrandKit, PoseTemplate, Product

KIT = {"tone": "luxury"}
AVATAR = {"gender": "female", "age_range": "25-34", "style": "modest-hijab", "ethnicity": "southeast-asian"}
PRODUCT = {"name": "Glow Serum", "product_type": "bottle", "placement": "hand-left"}
TEMPLATE = {"id": "product-holding-hand-left-front-002",
            "description": "standing, front view, left hand holding the product at chest height"}


def build(**changes) -> Prompt:
    args = {"brand_kit": KIT, "avatar": AVATAR, "product": PRODUCT, "template": TEMPLATE}
    args.update(changes)
    return build_prompt(**args)


def test_same_inputs_same_prompt_and_rows_read_like_dicts():
    first, second = build(), build()
    assert first == second
    rows = build_prompt(
        brand_kit=BrandKit(user_id=1, brand_name="Kopi", colors=["#000000"], fonts=[], tone="luxury"),
        avatar=Avatar(user_id=1, brand_kit_id=1, name="Sari", image_path="a", thumbnail_path="b", width=1, height=1,
                      **AVATAR),
        product=Product(user_id=1, name="Glow Serum", product_type="bottle", placement="hand-left",
                        original_path="o", thumbnail_path="t", width=1, height=1),
        template=PoseTemplate(key="k", name="n", category="product-holding", keypoints=[None] * 18,
                              description=TEMPLATE["description"]),
    )
    assert rows == first
    assert build_prompt(brand_kit=KIT, avatar=AvatarTraits(**AVATAR), product=PRODUCT, template=TEMPLATE) == first


def test_traits_tone_product_and_pose_words_in_order_of_importance():
    p = build()
    text = p.positive
    for words in ("Southeast Asian woman", "around thirty", "holding the Glow Serum bottle in her left hand",
                  "wearing a hijab, modest clothing", "left hand holding the product at chest height",
                  "elegant studio lighting", "premium editorial"):
        assert words in text, words
    order = [text.index(w) for w in ("woman", "Glow Serum", "hijab", "chest height", "elegant studio")]
    assert order == sorted(order)
    assert p.tokens == estimate_tokens(text) <= TOKEN_LIMIT
    assert "Kopi" not in text                      # brand names would be drawn as text


@pytest.mark.parametrize(("gender", "pronoun", "noun"), [("female", "her", "woman"), ("male", "his", "man"),
                                                         ("unspecified", "their", "person"), (None, "their", "person")])
def test_gender_sets_noun_and_pronoun(gender, pronoun, noun):
    p = build(avatar={**AVATAR, "gender": gender})
    assert f" {noun}" in p.positive
    assert f"in {pronoun} left hand" in p.positive


@pytest.mark.parametrize(("placement", "words"), [
    ("hand-left", "holding the Glow Serum bottle in her left hand"),
    ("hand-right", "holding the Glow Serum bottle in her right hand"),
    ("both-hands", "holding the Glow Serum bottle with both hands"),
    ("worn", "wearing the Glow Serum bottle"),
    ("table", "the Glow Serum bottle placed on a table beside her"),
    ("displayed", "the Glow Serum bottle displayed beside her"),
])
def test_each_placement_has_its_phrase(placement, words):
    assert words in build(product={**PRODUCT, "placement": placement}).positive


def test_product_noun_adds_the_type_unless_the_name_says_it():
    assert "the Batik Scarf hijab" in build(product={"name": "Batik Scarf", "product_type": "hijab",
                                                     "placement": "worn"}).positive
    assert "wearing the Silk Hijab," in build(product={"name": "Silk Hijab", "product_type": "hijab",
                                                       "placement": "worn"}).positive
    assert "carrying the Rattan bag on her shoulder" in build(product={"name": "Rattan", "product_type": "bag",
                                                                      "placement": "worn"}).positive


def test_every_vocabulary_value_has_words():
    assert set(TONES) <= set(prompts.TONE_WORDS)
    assert set(STYLES) <= set(prompts.CLOTHING_WORDS)
    assert set(ETHNICITIES) <= set(prompts.ETHNICITY_WORDS)
    assert set(AGE_RANGES) <= set(prompts.AGE_WORDS)
    for tone in TONES:
        assert prompts.TONE_WORDS[tone].split(",")[0] in build(brand_kit={"tone": tone}).positive
    for placement in PLACEMENTS:
        for kind in PRODUCT_TYPES:
            p = build(product={"name": "Item", "product_type": kind, "placement": placement})
            assert "Item" in p.positive and p.tokens <= TOKEN_LIMIT


def test_negative_prompt_defaults_and_modest_style():
    neg = build().negative
    for words in ("deformed hands", "extra fingers", "blurry", "watermark", "text", "logo", "cropped head", "nsfw"):
        assert words in neg
    assert "revealing clothing" in neg                     # modest-hijab avatar
    assert "revealing clothing" not in build(avatar={**AVATAR, "style": "casual"}).negative
    assert build().negative_tokens == estimate_tokens(neg) <= TOKEN_LIMIT


def test_overrides_extra_negative_and_style_preset():
    base = build()
    p = build(overrides=PromptOverrides(extra="sunlit cafe, rattan chair", negative="blurry, dark",
                                        extra_negative="sunglasses", style_preset="outdoor"))
    assert "sunlit cafe, rattan chair" in p.positive
    assert "natural daylight" in p.positive
    assert p.negative == "blurry, dark, sunglasses"        # replaced, then extended
    assert base.positive.split(", ")[:3] == p.positive.split(", ")[:3]
    assert build(overrides=PromptOverrides(extra_negative="hat")).negative == base.negative + ", hat"
    assert build(overrides=PromptOverrides()) == base
    with pytest.raises(ValidationFailed):
        PromptOverrides(style_preset="vaporwave")
    with pytest.raises(ValidationFailed):
        PromptOverrides(extra="x" * 501)


def test_user_text_is_cleaned():
    p = build(overrides=PromptOverrides(extra="  golden\nhour \t light ,, "))
    assert "golden hour light" in p.positive and "\n" not in p.positive


def _words(text: str) -> set[str]:
    return set(re.findall(r"[\w'-]+", text))


def test_long_prompts_drop_the_least_important_phrases_first_never_mid_word():
    long_pose = ("sitting on a wooden bench in a tropical garden, three-quarter view facing left, left hand holding "
                 "the product at chest height, right hand resting on the knee, looking over the shoulder")
    p = build(template={"description": long_pose}, overrides=PromptOverrides(extra="batik pattern background, "
                                                                             "morning light", style_preset="studio"))
    assert p.tokens <= TOKEN_LIMIT
    assert p.positive.startswith("photo of a Southeast Asian woman")
    assert "holding the Glow Serum bottle in her left hand" in p.positive
    assert p.dropped and "8k" in p.dropped and "realistic" in p.dropped   # quality words go first
    assert p.dropped.index("8k") < p.dropped.index("realistic")          # the last phrase of a rank first
    every_input_word = _words(long_pose + " batik pattern background morning light " + prompts.QUALITY_WORDS
                              + prompts.STYLE_PRESETS["studio"] + prompts.TONE_WORDS["luxury"])
    every_input_word |= _words(build().positive)
    assert _words(p.positive) <= every_input_word                         # whole words only
    kept_pose = [s for s in long_pose.split(", ") if s in p.positive]
    assert kept_pose, "the pose ranks above the look and the quality words"


def test_one_huge_phrase_is_cut_at_a_word_boundary():
    huge = " ".join(["kebaya"] * 200)
    p = build(avatar=None, product=None, brand_kit=None, template={"description": huge})
    assert p.tokens <= TOKEN_LIMIT
    assert set(p.positive.replace(",", " ").split()) <= {"photo", "of", "a", "person", "kebaya"}
    assert p.positive.startswith("photo of a person, kebaya kebaya")      # cut, not dropped
    assert set(p.dropped[-1].split()) == {"kebaya"}


def test_token_estimate():
    assert estimate_tokens("") == 0
    assert estimate_tokens("photo of a woman, studio lighting") == 7      # words + the comma
    assert estimate_tokens("25-34") == 5                                  # CLIP splits digits
    assert estimate_tokens("hyaluronic") >= 2                             # unknown long word: several pieces
    assert estimate_tokens(prompts.NEGATIVE) <= TOKEN_LIMIT


def test_empty_inputs_still_give_a_prompt():
    p = build_prompt()
    assert p.positive.startswith("photo of a person") and p.negative


def test_avatar_prompt():
    p = avatar_prompt(text="friendly smile, long black hair", traits=AvatarTraits(gender="male", age_range="18-24",
                                                                                   style="traditional",
                                                                                   ethnicity="southeast-asian"))
    assert p.positive.startswith("portrait photo of a young Southeast Asian man")
    for words in ("in his early twenties", "friendly smile", "long black hair", "batik", "neutral grey background",
                  "looking at the camera"):
        assert words in p.positive
    assert "multiple people" in p.negative and p.tokens <= TOKEN_LIMIT
    assert avatar_prompt(text="friendly smile, long black hair", traits={"gender": "male", "age_range": "18-24",
                                                                         "style": "traditional",
                                                                         "ethnicity": "southeast-asian"}) == p
    assert avatar_prompt(text=None, traits=None).positive.startswith("portrait photo of a person")
