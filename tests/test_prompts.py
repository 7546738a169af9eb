"""core.prompts: deterministic prompts from brand kit, avatar, product and template; overrides; CLIP's limit."""
from __future__ import annotations

import math
import random
import re

import pytest

from core import prompts
from core.catalog.avatars import AGE_RANGES, ETHNICITIES, STYLES, AvatarTraits
from core.catalog.brand_kits import TONES
from core.errors import ValidationFailed
from core.catalog.products import PLACEMENTS, PRODUCT_TYPES
from core.prompts import (TOKEN_LIMIT, Prompt, PromptBuilder, PromptOverrides, avatar_prompt, build_prompt,
                          estimate_tokens, fit_phrases)
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


# --- PromptBuilder: a batch's prompts, character for character build_prompt's -------------------------------

# build_prompt, clean_text and fit_phrases as they were before PromptBuilder (commit 29a16c7), word for word:
# the reference the builder (and build_prompt, now a PromptBuilder) must reproduce exactly.
def _reference_clean_text(text, max_chars=None):
    if text is None:
        return ""
    text = "".join(" " if (ord(c) < 32 or ord(c) == 127) else c for c in str(text))
    text = re.sub(r"\s+", " ", text).strip(" ,;")
    if max_chars is not None and len(text) > max_chars:
        cut = text[:max_chars + 1].rsplit(" ", 1)[0] if " " in text[:max_chars + 1] else text[:max_chars]
        text = cut.strip(" ,;")
    return text


def _reference_estimate_tokens(text):
    count = 0
    for piece in re.findall(r"'(?:s|t|re|ve|m|ll|d)|[^\W\d_]+|\d|[^\s\w]+|_+", text.lower()):
        if piece[0].isalpha() and piece not in prompts._VOCAB and len(piece) > 5:
            count += 1 + math.ceil((len(piece) - 5) / 5)
        else:
            count += 1
    return count


def _reference_fit_phrases(phrases, limit=TOKEN_LIMIT):
    estimate = _reference_estimate_tokens
    seen, kept = set(), []
    for text, rank in phrases:
        if text.lower() not in seen:
            seen.add(text.lower())
            kept.append((text, rank))
    dropped = []
    joined = lambda items: ", ".join(t for t, _ in items)  # noqa: E731
    while kept and estimate(joined(kept)) > limit:
        worst = max(range(len(kept)), key=lambda i: (kept[i][1], i))
        text, rank = kept[worst]
        excess = estimate(joined(kept)) - limit
        words = text.split(" ")
        if (rank < prompts.PRESET and estimate(text) > excess and len(words) > 1) or len(kept) == 1:
            cut = []
            while len(words) > 1 and estimate(joined(kept[:worst] + [(" ".join(words), rank)]
                                                    + kept[worst + 1:])) > limit:
                cut.insert(0, words.pop())
            kept[worst] = (" ".join(words).rstrip(" ;:."), rank)
            if cut:
                dropped.append(" ".join(cut))
                continue
        dropped.append(kept.pop(worst)[0])
    text = joined(kept)
    return text, estimate(text), tuple(dropped)


def _reference_build_prompt(*, brand_kit=None, avatar=None, product=None, template=None, overrides=None):
    P, get, clean = prompts, prompts._get, _reference_clean_text

    def phrases(text, rank):
        return [(p, rank) for p in (clean(s) for s in text.split(",")) if p]

    def negative(base, extra=""):
        if overrides is not None and overrides.negative is not None:
            base, extra = overrides.negative, ""
        parts = phrases(base, 0) + phrases(extra, 1)
        if overrides is not None and overrides.extra_negative:
            parts += phrases(overrides.extra_negative, 0)
        text, tokens, _ = _reference_fit_phrases(parts)
        return text, tokens

    subject, pos, obj = P._subject(avatar, "photo of")
    out = list(subject)
    if product is not None:
        out.append((P.placement_phrase(product=product, placement=get(product, "placement"), pos=pos, obj=obj),
                    P.PRODUCT))
    style = get(avatar, "style")
    out += phrases(P.CLOTHING_WORDS.get(style or "", ""), P.CLOTHING)
    out += phrases(clean(get(template, "description"), 300).lower(), P.POSE)
    if overrides is not None:
        out += phrases(clean(overrides.extra), P.USER)
        out += phrases(P.STYLE_PRESETS.get(overrides.style_preset or "", ""), P.PRESET)
    out += phrases(P.TONE_WORDS.get(get(brand_kit, "tone") or "", ""), P.TONE)
    out += phrases(P.QUALITY_WORDS, P.QUALITY)
    positive, tokens, dropped = _reference_fit_phrases(out)
    neg, neg_tokens = negative(P.NEGATIVE, P.MODEST_NEGATIVE if style == "modest-hijab" else "")
    return Prompt(positive, neg, tokens, neg_tokens, dropped)


LONG_NAME = "Supercalifragilistic Moisturising Überkrem ΣΟΦΙΑ 250ml!!"
BATCH_INPUTS = [  # (brand kit, avatar, product, overrides): the shop's own, and ones that crowd the 75 tokens
    (KIT, AVATAR, PRODUCT, None),
    (None, None, None, None),
    ({"tone": "friendly"}, {"gender": "female"}, {"name": "Serum", "product_type": "bottle",
                                                  "placement": "hand-right"}, PromptOverrides(extra="sunlit cafe")),
    ({"tone": "playful"}, {"gender": "male", "age_range": "55+", "style": "streetwear", "ethnicity": "latino"},
     {"name": LONG_NAME, "product_type": "jar", "placement": "both-hands"},
     PromptOverrides(extra="batik pattern background, morning light; hyperrealistic embroidered songket",
                     style_preset="studio", extra_negative="sunglasses, hat.")),
    ({"tone": "elegant"}, {"gender": "female", "age_range": "18-24", "style": "traditional", "ethnicity": "latino"},
     {"name": "Tote", "product_type": "bag", "placement": "worn"},
     PromptOverrides(extra=" ".join(["kebaya"] * 70), negative="blurry, dark...", style_preset="lifestyle")),
    ({"tone": "bold"}, {"gender": "x", "age_range": "35-44", "style": "modest-hijab"},
     {"name": "", "product_type": "other", "placement": "displayed"}, PromptOverrides(style_preset="street")),
    (BrandKit(user_id=1, brand_name="Kopi", colors=["#000000"], fonts=[], tone="minimalist"),
     Avatar(user_id=1, brand_kit_id=1, name="Sari", image_path="a", thumbnail_path="b", width=1, height=1, **AVATAR),
     Product(user_id=1, name="Kopi Susu Gula Aren", product_type="pouch", placement="table", original_path="o",
             thumbnail_path="t", width=1, height=1), PromptOverrides(extra="wooden cafe counter, steam")),
]


@pytest.fixture(scope="module")
def shipped_templates():
    from core.library.poses.library import load_library

    library = load_library()
    assert len(library) >= 600 and all(t["description"] for t in library)
    return library


@pytest.mark.parametrize("case", range(len(BATCH_INPUTS)))
def test_builder_gives_build_prompts_prompt_for_every_shipped_template(case, shipped_templates):
    kit, avatar, product, overrides = BATCH_INPUTS[case]
    builder = PromptBuilder(brand_kit=kit, avatar=avatar, product=product, overrides=overrides)
    dropping = 0
    for template in shipped_templates:
        built = builder.for_template(template)
        assert built == build_prompt(brand_kit=kit, avatar=avatar, product=product, template=template,
                                     overrides=overrides), template["id"]
        assert built == _reference_build_prompt(brand_kit=kit, avatar=avatar, product=product, template=template,
                                                overrides=overrides), template["id"]
        assert built.tokens == estimate_tokens(built.positive) <= TOKEN_LIMIT
        assert built.negative_tokens == estimate_tokens(built.negative)
        dropping += bool(built.dropped)
    if case >= 3:
        assert dropping, "these inputs crowd the token budget: the cutting path is compared too"
    # a row reads like its dict, and the builder is unchanged by what it built
    row = PoseTemplate(key="k", name="n", category="sitting", keypoints=[None] * 18,
                       description=shipped_templates[0]["description"])
    assert builder.for_template(row) == builder.for_template(shipped_templates[0])
    assert builder.for_template(None) == build_prompt(brand_kit=kit, avatar=avatar, product=product,
                                                      overrides=overrides)


def _random_phrase(rng: random.Random) -> str:
    pieces = ["photo", "of", "a", "woman", "hyaluronic", "Überkrem", "ΣΟΦΙΑΣ", "Σ", "İstanbul", "e\u0301", "it's",
              "'re", "'", "rock'n'roll", "25-34", "250ml", "x2", "snake_case", "__", "!!", "...", ".", ";", ":",
              "?", "(left)", "…", "«quote»", "naïve", "ΣΣ.", "ß", "ﬁne", "\u00b2", "½", "日本語", "", "-"]
    return " ".join(rng.choice(pieces) for _ in range(rng.randint(1, 9))).strip(" ") \
        + rng.choice(["", "", ".", "'", "!", "Σ", "\u0301", " ", ", more"])


def test_fit_phrases_matches_the_whole_text_estimate_on_awkward_text():
    """fit_phrases estimates a joined text from its phrases' estimates; on awkward text (punctuation at a
    phrase's end that the comma continues, final sigmas, combining marks, digits, apostrophes, empty and
    repeated phrases) it must cut and drop exactly as estimating the whole joined text did."""
    rng = random.Random(17)
    for _ in range(3000):
        phrases = [(_random_phrase(rng), rng.randint(0, 7)) for _ in range(rng.randint(0, 14))]
        limit = rng.choice([0, 1, 5, 20, 40, TOKEN_LIMIT])
        text, tokens, dropped = fit_phrases(phrases, limit)
        assert (text, tokens, dropped) == _reference_fit_phrases(phrases, limit), (phrases, limit)
        assert tokens == estimate_tokens(text)
    for text in ("", "a", "a\x00b\x7f c\td\n", "  ,; x ,; ", "é" * 400 + " b", "ab " * 300):
        for most in (None, 0, 1, 10, 300):
            assert prompts.clean_text(text, most) == _reference_clean_text(text, most)
