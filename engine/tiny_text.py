"""The tiny engine's CLIP tokenizer: a real BPE vocabulary of common English words, so tiny prompts get
realistic token counts (one token per common word, as CLIP's 49,408-entry vocabulary gives; rarer words
and product names split into pieces; any text still encodes through the byte symbols).

    write_tiny_tokenizer(folder)     # vocab.json + merges.txt + tokenizer_config.json for CLIPTokenizer
    tiny_vocab(), tiny_merges()      # the same data in memory (the text encoder's vocab_size is len(tiny_vocab()))

How it is built, as CLIP's own files are: the vocabulary starts with CLIP's 512 byte-level symbols (the 256
GPT-2 byte stand-ins, then each of them with the end-of-word mark `</w>`), then the symbols the merges make,
in merge order, then `<|startoftext|>` and `<|endoftext|>`. The merges are learned from WORDS by the
`tokenizers` library's BPE trainer (the implementation behind transformers' CLIPTokenizer), trained to the
end, so every word of WORDS is one symbol. transformers' CLIPTokenizer reads vocab.json + merges.txt
(lower-cases, splits letters / single digits / punctuation runs, maps bytes to the stand-ins, appends
`</w>` to each word's last symbol, applies the merges by rank): "a person holding a red mug, studio photo"
is 9 tokens here, as with the real tokenizer. The build is deterministic (fixed word list, trainer ties
broken by the library's ordering) and takes ~50 ms.
"""
from __future__ import annotations

import functools
import json
from pathlib import Path

BOS, EOS = "<|startoftext|>", "<|endoftext|>"

# Common English words plus the words our prompts, negatives and the pose library's descriptions use.
WORDS = """
a about above across after again against age aged ai air all alone along always am an anatomy and angle ankle ankles
another any apart appears applying apron arm armrests arms around art artifacts as asian at athleisure
atmosphere attire away baby back backdrop background backpack bad bag bags bakery balcony ball bamboo
bare basket batik be beach beautiful bed before behind being below belt beneath beside best between beverage
big bike black blanket blazer blouse blue blur blurry body bokeh bold book books boots both bottle bottles
bottom bowl box boy bracelet bread breakfast bright brown brush building built business busy but button by
cafe cake camera can candid candle cap car cardigan care carrying cartoon case casual cat catalog caucasian
ceramic chair cheeks chest child chin chocolate city classic cleavage clean clear close closeup clothes clothing cloud
coat coffee collar color colorful colors commerce commercial contrast corporate cosmetic cosmetics cotton
counter cozy cream crisp crop cropped cross crossed cup curly cushion cut dark daughter day daylight deep
deformed delicate
denim depth desk detail detailed detailing dish displayed distorted do dog down dramatic dress dresses drink
drinking earrings early east eastern eating editorial elbow elbows elegant embroidered empty evening even
every extra eye eyes fabric face facing fair family fashion feet female festive few field fifty fine fingers
flat floor floral flower flowers focus food foot for forearms formal forty forward frame fresh friendly from
front fruit full fused garden gentle gift girl glass glasses glossy glow gloves gold golden good gown green
grey ground group hair half hand handbag handmade hands happy hat have he head headscarf healthy heavy heels
height her here high hijab him hip hips his hold holding home hoodie hot house in indoor indoors inside
interior into inviting is it its jacket jar jeans jewelry jpeg juice just kebaya keep kitchen knee knees
knit lace lamp lap large latina latino lay laying leaf leaning leather left leg legged legs length lens
lifestyle light lighting like limbs linen lip lips lipstick little living local logo long look looking
loose lotion low lower lowres luxury made magazine main make makeup male man market matte me medium men
middle minimalist mirror missing mixed model modern modest mood morning mother mouth mug multiple my
natural naturally neck necklace negative neutral new next night no noise nose not nsfw nude of off office
oil old older on one open or orange other out outdoor outdoors outfit over pack package packaging pale
palm pants paper park pastel pattern patterned people perfume person phone photo photograph photography
picture pink placed plain plant plants plate playful pocket pockets pointing portrait pose posing pot pouch
premium pretty print printed product professional purple quality quarter race rain realistic red refined
relaxed resting revealing right ring room round rug sack sale sandals saturated scarf scene seated selfie
serum set shade shadow shadows shallow shampoo shape sharp she shelf shine shirt shoe shoes shop short
shorts shot shoulder shoulders showcase side sides signature silk silver simple sitting sixty skin skincare
skirt sky sleeve sleeves slim small smile smiling snack soap sneakers soft softbox south southeast space
sport sporty spray square stand standing stone stool store straight street streetwear striped studio style
styled subject summer sun sunglasses sunlight sunlit sunny sweater swinging table tall tea teen texture
text that the their them there they thighs thin thirty this three to together tone top touching towel
traditional tray tree trousers tshirt turned twenties two under up upper urban use vase vest vibrant view
vintage waist walking wall warm was watch water watermark waving we wear wearing weight well what wheat
when white who whole wide window wine with without woman women wood wooden wool work worn wrist writing
year years yellow young your
"""


def fingerprint() -> str:
    """Changes whenever WORDS does: part of the tiny models' marker, so an edited vocabulary rebuilds them."""
    import hashlib

    return hashlib.sha256(" ".join(sorted(set(WORDS.split()))).encode()).hexdigest()[:16]


def _bytes_to_unicode() -> list[str]:
    """GPT-2 / CLIP byte-level alphabet: 256 printable stand-ins for the bytes 0..255 (in CLIP's order)."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(ord("¡"), ord("¬") + 1)) + list(range(ord("®"), ord("ÿ") + 1))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return [chr(c) for c in cs]


@functools.lru_cache(maxsize=1)
def _learned() -> tuple[tuple[str, str], ...]:
    """The merges the BPE trainer learns from WORDS, in rank order (every word ends as one symbol)."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE(end_of_word_suffix="</w>", continuing_subword_prefix=""))
    tokenizer.pre_tokenizer = pre_tokenizers.WhitespaceSplit()
    trainer = trainers.BpeTrainer(vocab_size=1_000_000, min_frequency=1, end_of_word_suffix="</w>",
                                  show_progress=False, special_tokens=[])
    tokenizer.train_from_iterator(sorted(set(WORDS.split())), trainer)
    merges = json.loads(tokenizer.to_str())["model"]["merges"]
    # recent tokenizers write a merge as ["a", "b"], older ones as "a b"
    return tuple(tuple(m) if isinstance(m, (list, tuple)) else tuple(m.split(" ")) for m in merges)


def tiny_merges() -> list[tuple[str, str]]:
    return list(_learned())


def tiny_vocab() -> dict[str, int]:
    """CLIP's first 512 entries (bytes, then bytes + '</w>'), the merged symbols in merge order, the two specials."""
    symbols = _bytes_to_unicode()
    vocab = {s: i for i, s in enumerate(symbols)}
    vocab.update({s + "</w>": 256 + i for i, s in enumerate(symbols)})
    for a, b in _learned():
        vocab.setdefault(a + b, len(vocab))
    vocab[BOS] = len(vocab)
    vocab[EOS] = len(vocab)
    return vocab


def write_tiny_tokenizer(folder: Path, *, max_length: int = 77) -> Path:
    """vocab.json + merges.txt + tokenizer_config.json, loadable by CLIPTokenizer.from_pretrained."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps(tiny_vocab(), ensure_ascii=False), encoding="utf-8")
    lines = ["#version: 0.2"] + [f"{a} {b}" for a, b in _learned()]
    (folder / "merges.txt").write_text("\n".join(lines) + "\n", encoding="utf-8")
    config = {"tokenizer_class": "CLIPTokenizer", "model_max_length": max_length, "do_lower_case": True,
              "bos_token": BOS, "eos_token": EOS, "pad_token": EOS, "unk_token": EOS}
    (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2), encoding="utf-8")
    return folder
