"""Text prompts for one pose render and for AI avatar generation. Pure, deterministic: the same inputs
always give the same strings.

    p = build_prompt(brand_kit=kit, avatar=avatar, product=product, template=template,
                     overrides=PromptOverrides(extra="sunlit cafe", style_preset="lifestyle"))
    p.positive, p.negative, p.tokens, p.dropped

    builder = PromptBuilder(brand_kit=kit, avatar=avatar, product=product, overrides=overrides)
    builder.for_template(template)      # == build_prompt(..., template=template), character for character

A batch plans hundreds of templates for one brand kit, avatar and product: `PromptBuilder` works out
everything that does not depend on the template (the subject, product, clothing, user, look, tone and
quality phrases, and the whole negative prompt) once, and `for_template` only adds the pose words and
fits the result. `build_prompt` is `PromptBuilder(...).for_template(template)`.

Inputs are read by attribute or by key, so SQLModel rows (BrandKit, Avatar, Product, PoseTemplate),
the library's template dicts and plain dicts all work; any of them may be None. Fields read:
brand_kit.tone; avatar.gender / age_range / style / ethnicity; product.name / product_type /
placement; template.description.

CLIP (SD 1.5 and both SDXL text encoders) reads 77 tokens, two of them start/end markers; diffusers
drops the rest silently. So a prompt is built from phrases ranked by importance - who, what they
hold, what they wear, the pose, the user's own words, the look, the brand's mood, quality words - and
`estimate_tokens` (a conservative stand-in for CLIP's BPE, which core cannot load) decides what fits:
the least important phrases go first, whole, or a long content phrase loses whole words from its
end (`fit_phrases`). What was left out is reported in `Prompt.dropped`.
"""
from __future__ import annotations

import functools
import math
import re
from dataclasses import dataclass
from typing import Any

from core.errors import ValidationFailed

TOKEN_LIMIT = 75          # CLIP's 77 minus the start and end markers
MAX_USER_TEXT = 500       # characters of one override text

TONE_WORDS = {
    "friendly": "bright natural light, warm friendly atmosphere, lifestyle photography",
    "casual": "natural daylight, relaxed candid lifestyle photo",
    "formal": "clean studio lighting, formal corporate photography",
    "playful": "vibrant colors, bright playful mood, colorful backdrop",
    "luxury": "elegant studio lighting, premium editorial photography",
    "bold": "dramatic high contrast lighting, bold saturated colors",
    "minimalist": "minimalist clean background, soft even lighting",
    "professional": "professional studio lighting, commercial photography",
    "elegant": "soft elegant lighting, refined fashion editorial",
    "warm": "warm golden light, cozy inviting atmosphere",
}
STYLE_PRESETS = {
    "studio": "plain studio backdrop, softbox lighting",
    "catalog": "plain white background, e-commerce catalog photo",
    "outdoor": "outdoors, natural daylight, shallow depth of field",
    "lifestyle": "cozy home interior, natural window light",
    "editorial": "fashion magazine editorial, styled set",
    "street": "city street background, urban daylight",
}
CLOTHING_WORDS = {
    "casual": "casual outfit",
    "formal": "formal attire",
    "modest-hijab": "wearing a hijab, modest clothing",
    "sporty": "sporty athleisure outfit",
    "streetwear": "streetwear outfit",
    "traditional": "traditional batik clothing",
    "elegant": "elegant outfit",
    "professional": "professional business attire",
}
ETHNICITY_WORDS = {
    "southeast-asian": "Southeast Asian", "east-asian": "East Asian", "south-asian": "South Asian",
    "black": "Black", "white": "Caucasian", "middle-eastern": "Middle Eastern", "latino": "Latino",
    "mixed": "mixed-race", "unspecified": "",
}
# age range -> (words before the noun, words after it); {pos} is her / his / their
AGE_WORDS = {
    "18-24": ("young", "in {pos} early twenties"),
    "25-34": ("", "around thirty years old"),
    "35-44": ("", "around forty years old"),
    "45-54": ("middle-aged", "around fifty years old"),
    "55+": ("older", "around sixty years old"),
}
NOUNS = {"female": ("woman", "her"), "male": ("man", "his")}
QUALITY_WORDS = "high quality photo, sharp focus, detailed skin texture, realistic, 8k"
AVATAR_SCENE = "head and shoulders portrait, looking at the camera, neutral grey background, soft studio lighting"
NEGATIVE = ("deformed hands, extra fingers, missing fingers, fused fingers, bad anatomy, extra limbs, "
            "distorted face, blurry, lowres, jpeg artifacts, watermark, text, logo, signature, "
            "cropped head, out of frame, nsfw, nude, cartoon")
MODEST_NEGATIVE = "revealing clothing, cleavage"
AVATAR_NEGATIVE = "multiple people, busy background, cropped face"
# phrase ranks: lower is more important; higher ranks are dropped first
SUBJECT, PRODUCT, CLOTHING, POSE, USER, PRESET, TONE, QUALITY = range(8)


@dataclass(frozen=True)
class PromptOverrides:
    """What a user may change: extra positive words, the whole negative prompt (`negative`, replaces the
    default) or words added to it (`extra_negative`), and a look from STYLE_PRESETS."""

    extra: str | None = None
    negative: str | None = None
    extra_negative: str | None = None
    style_preset: str | None = None

    def __post_init__(self) -> None:
        for name in ("extra", "negative", "extra_negative"):
            value = getattr(self, name)
            if value is not None and (not isinstance(value, str) or len(value) > MAX_USER_TEXT):
                raise ValidationFailed("prompts.text_too_long", field=name, override=name, most=MAX_USER_TEXT)
        if self.style_preset not in (None, "", *STYLE_PRESETS):
            raise ValidationFailed("prompts.unknown_style", field="style_preset", preset=self.style_preset,
                                   presets=list(STYLE_PRESETS))


@dataclass(frozen=True)
class Prompt:
    positive: str
    negative: str
    tokens: int = 0                     # estimated CLIP tokens of `positive` (without start/end markers)
    negative_tokens: int = 0
    dropped: tuple[str, ...] = ()       # phrases left out to stay within TOKEN_LIMIT


# --- token estimate ------------------------------------------------------------------------
_PIECES = re.compile(r"'(?:s|t|re|ve|m|ll|d)|[^\W\d_]+|\d|[^\s\w]+|_+", re.UNICODE)
_PUNCTUATION = re.compile(r"[^\s\w]", re.UNICODE)   # a character that _PIECES puts in a punctuation run


# common English words (one CLIP token each) of placements and the library's pose descriptions
_COMMON_WORDS = ("placed table displayed product showcase shoulder pose them person against ankles applying "
                 "armrests beside camera cheeks counter crossed elbows facing forearms forward height holding "
                 "leaning legged looking naturally pocket pockets pointing quarter relaxed resting shoulders "
                 "sitting skincare standing swinging thighs together touching walking waving weight")


def _vocabulary() -> frozenset[str]:
    tables = [TONE_WORDS, STYLE_PRESETS, CLOTHING_WORDS, ETHNICITY_WORDS, NOUNS]
    text = " ".join(str(v) for t in tables for v in t.values())
    text += " ".join(a + " " + b for a, b in AGE_WORDS.values())
    text += " ".join([QUALITY_WORDS, AVATAR_SCENE, NEGATIVE, MODEST_NEGATIVE, AVATAR_NEGATIVE, _COMMON_WORDS,
                      "photo of a the in with on left right hand both hands beside wearing carrying holding"])
    return frozenset(w.lower() for w in re.findall(r"[^\W\d_]+", text))


def estimate_tokens(text: str) -> int:
    """CLIP BPE tokens of `text`, estimated without its vocabulary, erring high.

    Like CLIP's pre-tokenizer: lower-cased words, each digit alone, runs of punctuation. Words this
    module writes itself are common English (one token each); any other word of n > 5 letters counts
    1 + ceil((n - 5) / 5) (rare words and product names split into several pieces).
    """
    count = 0
    for piece in _PIECES.findall(text.lower()):
        if piece[0].isalpha() and piece not in _VOCAB and len(piece) > 5:
            count += 1 + math.ceil((len(piece) - 5) / 5)
        else:
            count += 1
    return count


@functools.lru_cache(maxsize=8192)
def _phrase_cost(text: str) -> tuple[int, bool]:
    """(estimate_tokens(text), whether its lower-cased text ends in punctuation). A phrase's pieces are the
    same alone as in ", ".join(...) of phrases (the ", " separator ends every piece but a punctuation run,
    and blocks the one context-dependent lower-casing, a final sigma), so a joined text's estimate is the
    phrases' estimates plus one per comma, less one per comma that continues a phrase's final punctuation
    run. Pure, so cached: a batch's fixed phrases are estimated once."""
    low = text.lower()
    return estimate_tokens(text), bool(low) and _PUNCTUATION.match(low[-1]) is not None


def _joined_tokens(costs: list[tuple[int, bool]]) -> int:
    """estimate_tokens(", ".join(texts)) from the texts' _phrase_cost, in their order."""
    if not costs:
        return 0
    return sum(t for t, _ in costs) + len(costs) - 1 - sum(1 for _, punct in costs[:-1] if punct)


# --- phrase helpers -----------------------------------------------------------------------
def _get(obj: Any, name: str, default: Any = None) -> Any:
    if obj is None:
        return default
    if isinstance(obj, dict):
        return obj.get(name, default)
    return getattr(obj, name, default)


_CONTROL = {**{i: " " for i in range(32)}, 127: " "}   # control characters -> spaces
_SPACES = re.compile(r"\s+")


def clean_text(text: Any, max_chars: int | None = None) -> str:
    """One line of user text: control characters out, whitespace collapsed, stray commas trimmed, and
    at most `max_chars` long, cut before a word rather than inside one."""
    if text is None:
        return ""
    text = _SPACES.sub(" ", str(text).translate(_CONTROL)).strip(" ,;")
    if max_chars is not None and len(text) > max_chars:
        cut = text[:max_chars + 1].rsplit(" ", 1)[0] if " " in text[:max_chars + 1] else text[:max_chars]
        text = cut.strip(" ,;")
    return text


def _phrases(text: str, rank: int) -> list[tuple[str, int]]:
    return [(p, rank) for p in (clean_text(s) for s in text.split(",")) if p]


def _subject(traits: Any, lead: str) -> tuple[list[tuple[str, int]], str, str]:
    """Phrases naming the person, and the person's possessive and object pronouns."""
    noun, pos = NOUNS.get(_get(traits, "gender") or "", ("person", "their"))
    obj = {"her": "her", "his": "him"}.get(pos, "them")
    before, after = AGE_WORDS.get(_get(traits, "age_range") or "", ("", ""))
    ethnicity = ETHNICITY_WORDS.get(_get(traits, "ethnicity") or "", "")
    if ethnicity == "Latino" and noun == "woman":
        ethnicity = "Latina"
    words = " ".join(w for w in (before, ethnicity, noun) if w)
    article = "an" if words[:1].lower() in "aeiou" else "a"
    out = [(f"{lead} {article} {words}", SUBJECT)]
    if after:
        out.append((after.format(pos=pos), SUBJECT))
    return out, pos, obj


def product_noun(product: Any) -> str:
    """"the Glow Serum bottle": the product's name, with its type when the name does not say it."""
    name = clean_text(_get(product, "name"), 100)
    kind = _get(product, "product_type") or ""
    if kind in ("other", "clothing", "accessory", "top", "bottom"):
        kind = "" if name else kind
    if kind and kind.lower() not in name.lower():
        name = f"{name} {kind}".strip()
    return f"the {name}" if name else "the product"


def placement_phrase(*, product: Any, placement: str | None, pos: str, obj: str) -> str:
    """How the product appears in the picture, e.g. "holding the Glow Serum bottle in her left hand"."""
    noun = product_noun(product)
    kind = _get(product, "product_type") or ""
    if placement == "hand-left":
        return f"holding {noun} in {pos} left hand"
    if placement == "hand-right":
        return f"holding {noun} in {pos} right hand"
    if placement == "both-hands":
        return f"holding {noun} with both hands"
    if placement == "worn":
        return f"carrying {noun} on {pos} shoulder" if kind == "bag" else f"wearing {noun}"
    if placement == "table":
        return f"{noun} placed on a table beside {obj}"
    if placement == "displayed":
        return f"{noun} displayed beside {obj}, product showcase"
    return f"with {noun}"


# --- assembly ------------------------------------------------------------------------------
def fit_phrases(phrases: list[tuple[str, int]], limit: int = TOKEN_LIMIT) -> tuple[str, int, tuple[str, ...]]:
    """Join (text, rank) phrases with commas in their order and make the estimate fit `limit`: take the
    least important phrase (highest rank, the latest of equals); the look and quality words (rank >=
    PRESET) go whole, and so does a content phrase no longer than the excess; a longer content phrase
    loses whole words from its end, just enough. Returns (text, estimated tokens, what was left out)."""
    seen: set[str] = set()
    kept = []
    for text, rank in phrases:  # the same phrase twice (tone and preset words overlap) is noise
        if text.lower() not in seen:
            seen.add(text.lower())
            kept.append((text, rank))
    dropped: list[str] = []
    # costs[i] is _phrase_cost(kept[i][0]); _joined_tokens(costs) is estimate_tokens of the joined text
    costs = [_phrase_cost(text) for text, _ in kept]
    while kept and (excess := _joined_tokens(costs) - limit) > 0:
        worst = max(range(len(kept)), key=lambda i: (kept[i][1], i))
        text, rank = kept[worst]
        words = text.split(" ")
        if (rank < PRESET and costs[worst][0] > excess and len(words) > 1) or len(kept) == 1:
            cut = []
            before, after = costs[:worst], costs[worst + 1:]
            while len(words) > 1 and _joined_tokens(before + [_phrase_cost(" ".join(words))] + after) > limit:
                cut.insert(0, words.pop())
            kept[worst] = (" ".join(words).rstrip(" ;:."), rank)
            costs[worst] = _phrase_cost(kept[worst][0])
            if cut:
                dropped.append(" ".join(cut))
                continue
        dropped.append(kept.pop(worst)[0])
        costs.pop(worst)
    return ", ".join(t for t, _ in kept), _joined_tokens(costs), tuple(dropped)


def _negative(base: str, overrides: PromptOverrides | None, extra: str = "") -> tuple[str, int]:
    if overrides is not None and overrides.negative is not None:
        base, extra = overrides.negative, ""        # replaced means replaced: the style's extras too
    parts = _phrases(base, 0) + _phrases(extra, 1)
    if overrides is not None and overrides.extra_negative:
        parts += _phrases(overrides.extra_negative, 0)
    text, tokens, _ = fit_phrases(parts)
    return text, tokens


class PromptBuilder:
    """The prompts of one brand kit, avatar, product and overrides, for any number of templates: what does
    not depend on the template is worked out once, here; `for_template` adds the pose words and fits.

        builder = PromptBuilder(brand_kit=kit, avatar=avatar, product=product, overrides=overrides)
        prompt = builder.for_template(template)     # == build_prompt(..., template=template)
    """

    __slots__ = ("_before", "_after", "_negative", "_negative_tokens")

    def __init__(self, *, brand_kit: Any = None, avatar: Any = None, product: Any = None,
                 overrides: PromptOverrides | None = None) -> None:
        # the phrases in the order build_prompt has always used: who, the product, clothing | the pose | the
        # user's words, the look, the brand's mood, quality words
        subject, pos, obj = _subject(avatar, "photo of")
        before = list(subject)
        if product is not None:
            before.append((placement_phrase(product=product, placement=_get(product, "placement"), pos=pos,
                                            obj=obj), PRODUCT))
        style = _get(avatar, "style")
        before += _phrases(CLOTHING_WORDS.get(style or "", ""), CLOTHING)
        after: list[tuple[str, int]] = []
        if overrides is not None:
            after += _phrases(clean_text(overrides.extra), USER)
            after += _phrases(STYLE_PRESETS.get(overrides.style_preset or "", ""), PRESET)
        tone = _get(brand_kit, "tone")
        after += _phrases(TONE_WORDS.get(tone or "", ""), TONE)
        after += _phrases(QUALITY_WORDS, QUALITY)
        self._before, self._after = tuple(before), tuple(after)
        self._negative, self._negative_tokens = _negative(NEGATIVE, overrides,
                                                          MODEST_NEGATIVE if style == "modest-hijab" else "")

    def for_template(self, template: Any = None) -> Prompt:
        """The positive and negative prompt of one pose render of `template` (only its description is read)."""
        phrases = [*self._before, *_phrases(clean_text(_get(template, "description"), 300).lower(), POSE),
                   *self._after]
        positive, tokens, dropped = fit_phrases(phrases)
        return Prompt(positive, self._negative, tokens, self._negative_tokens, dropped)


def build_prompt(*, brand_kit: Any = None, avatar: Any = None, product: Any = None, template: Any = None,
                 overrides: PromptOverrides | None = None) -> Prompt:
    """The positive and negative prompt of one pose render (see the module docstring)."""
    return PromptBuilder(brand_kit=brand_kit, avatar=avatar, product=product, overrides=overrides) \
        .for_template(template)


def avatar_prompt(*, text: str | None, traits: Any = None, overrides: PromptOverrides | None = None) -> Prompt:
    """Prompt for generating an avatar (text to image): a portrait of the described person on a
    neutral background. `traits`: gender, age_range, style, ethnicity (AvatarTraits, a row or a dict)."""
    subject, _, _ = _subject(traits, "portrait photo of")
    phrases = list(subject)
    phrases += _phrases(clean_text(text, MAX_USER_TEXT), PRODUCT)  # the description ranks like the product
    phrases += _phrases(CLOTHING_WORDS.get(_get(traits, "style") or "", ""), CLOTHING)
    if overrides is not None:
        phrases += _phrases(clean_text(overrides.extra), USER)
        phrases += _phrases(STYLE_PRESETS.get(overrides.style_preset or "", ""), PRESET)
    phrases += _phrases(AVATAR_SCENE, POSE)
    phrases += _phrases(QUALITY_WORDS, QUALITY)
    positive, tokens, dropped = fit_phrases(phrases)
    extra = AVATAR_NEGATIVE + (", " + MODEST_NEGATIVE if _get(traits, "style") == "modest-hijab" else "")
    negative, negative_tokens = _negative(NEGATIVE, overrides, extra)
    return Prompt(positive, negative, tokens, negative_tokens, dropped)


_VOCAB = _vocabulary()
