"""English and Bahasa Indonesia: every key has both texts with the same {placeholders}; every string the built
UI shows is a translation key (a string with no Indonesian text fails here, naming the page component);
handlers never return literal English; core's errors (image intake, accounts, files, sizes) read in
Indonesian, by their code; the language follows the cookie, then the browser's Accept-Language."""
from __future__ import annotations

import ast
import io
import re
import string
from pathlib import Path

import pytest
from gradio.i18n import I18nData
from PIL import Image

from core.errors import DomainError, ImageRejected
from ui.i18n import lang, message_text, tr
from ui.locales import EN, ID

UI_DIR = Path(__file__).resolve().parent.parent / "ui"
MARK = re.compile(r'__i18n__\{"__type__": "translation_metadata", "key": "((?:[^"\\]|\\.)*)"\}')
TEXT_PROPS = ("label", "info", "placeholder", "value", "title", "description")
SHOWN_VALUE_TYPES = {"markdown", "html", "button", "uploadbutton", "downloadbutton"}
# Shown as they are in both languages: names of things, units, symbols.
ALLOW = {"English", "Bahasa Indonesia", "Avatar & Pose Generator", "EN", "ID", "ZIP", "CSV", "JSON", "PNG", "JPG",
         "OpenPose", "Instagram", "TikTok", "Shopee", "Tokopedia", "Facebook"}


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_key_has_english_and_indonesian_with_the_same_placeholders():
    assert set(EN) == set(ID), f"keys only in EN: {sorted(set(EN) - set(ID))[:20]}, only in ID: " \
                               f"{sorted(set(ID) - set(EN))[:20]}"
    for key in EN:
        assert EN[key].strip() and ID[key].strip(), f"{key}: empty text"
        assert _fields(EN[key]) == _fields(ID[key]), f"{key}: placeholders differ between EN and ID"


def _leaves(x):
    if isinstance(x, dict):
        for v in x.values():
            yield from _leaves(v)
    elif isinstance(x, (list, tuple)):
        for v in x:
            yield from _leaves(v)
    else:
        yield x


def _visible_english(config: dict) -> list[str]:
    bad = []

    def check(where, value):
        if isinstance(value, I18nData) or not isinstance(value, str):
            return
        text = value.strip()
        if text and not MARK.search(text) and re.search(r"[A-Za-z]{2,}", text) and text not in ALLOW:
            bad.append(f"{where}: {text[:70]!r}")

    for c in config["components"]:
        props, where = c.get("props", {}), f"{c['type']}#{c.get('props', {}).get('elem_id') or c['id']}"
        for prop in TEXT_PROPS:
            if prop == "value" and c["type"] not in SHOWN_VALUE_TYPES:
                continue
            if prop == "label" and props.get("show_label") is False and c["type"] != "button":
                continue
            check(f"{where}.{prop}", props.get(prop))
        for i, choice in enumerate(props.get("choices") or []):
            check(f"{where}.choices[{i}]", choice[0] if isinstance(choice, (list, tuple)) else choice)
    return bad


@pytest.fixture
def ui_config(services):
    from ui import build_ui

    return build_ui(services).get_config_file()


def test_every_string_the_ui_shows_has_an_indonesian_translation(ui_config):
    used = set()
    for leaf in _leaves(ui_config):
        if isinstance(leaf, I18nData):
            used.add(leaf.key)
        elif isinstance(leaf, str):
            used.update(MARK.findall(leaf))
    assert used, "the UI uses no translation keys"
    assert not used - set(ID), f"keys shown without Indonesian text: {sorted(used - set(ID))}"
    bad = _visible_english(ui_config)
    assert not bad, f"{len(bad)} strings shown without a translation key, e.g.:\n  " + "\n  ".join(bad[:40])


HANDLER_CALLS = {"ok", "err", "Failed", "Warning", "Info", "Error"}


def test_handlers_never_show_literal_english():
    """ok("Saved") / err("...") / Failed("...") / gr.Warning("...") with an English literal would bypass the
    translation; they must take tr(request, key) or message(request, text)."""
    bad = []
    for path in sorted(UI_DIR.glob("*.py")):
        tree = ast.parse(path.read_text())
        for node in ast.walk(tree):
            if not isinstance(node, ast.Call) or not node.args:
                continue
            name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", None)
            first = node.args[0]
            literal = isinstance(first, ast.Constant) and isinstance(first.value, str)
            literal |= isinstance(first, ast.JoinedStr)
            if name in HANDLER_CALLS and literal:
                bad.append(f"{path.name}:{node.lineno} {name}(...)")
    assert not bad, "literal English in handler messages:\n  " + "\n  ".join(bad)


# --- core's messages ----------------------------------------------------------------------------------------

def _intake_errors(settings) -> list[ImageRejected]:
    """The errors the image intake gives for a corpus of bad uploads."""
    from core.images import ingest_image

    def png(size, mode="RGB"):
        buf = io.BytesIO()
        Image.new(mode, size).save(buf, "PNG")
        return buf.getvalue()

    cases = [b"", b"not an image at all", b"%PDF-1.7 fake", png((64, 64))[:60], png((9000, 10)),
             b"GIF89a" + b"\x00" * 10, b"<svg xmlns='http://www.w3.org/2000/svg'></svg>",
             png((64, 64)) + b"x" * (int(settings.max_avatar_size_mb * 1024 * 1024) + 10)]
    out = []
    for data in cases:
        try:
            ingest_image(io.BytesIO(data), kind="avatar", settings=settings)
        except ImageRejected as exc:
            out.append(exc)
    return out


def _raised(fn) -> DomainError:
    with pytest.raises(DomainError) as err:
        fn()
    return err.value


def test_intake_errors_read_in_indonesian(settings):
    errors = _intake_errors(settings)
    assert len(errors) >= 6
    for exc in errors:
        text = message_text(exc, "id")
        assert text and text != exc.message and exc.code not in text and "{" not in text, (exc.code, text)
    texts = [message_text(exc, "id") for exc in errors]
    assert texts[0] == "File ini kosong (0 byte). Silakan unggah gambar JPEG, PNG, WebP, HEIC, atau AVIF."
    assert any("(sepertinya dokumen PDF)" in text for text in texts), texts


def test_account_and_shared_errors_read_in_indonesian(settings, tmp_path):
    """The errors themselves, raised where core raises them, in the visitor's language: numbers the Indonesian
    way (1.000.000), words of a fixed list translated, a nested message (the seconds of a wait) rendered too."""
    from core.accounts import credits, users
    from core.accounts.login_limits import LoginLimiter
    from core.errors import InsufficientCredits
    from core.prompts import PromptOverrides
    from core.sizes import output_size
    from core.storage import LocalFileStore

    short = InsufficientCredits("credits.not_enough", need=50, have=7)
    assert short.message == "Not enough credits: this needs 50 credits and you have 7. Ask an admin to add credits."
    assert message_text(short, "id") == "Kredit tidak cukup: perlu 50 kredit dan Anda punya 7. Minta admin menambah kredit."
    key = _raised(lambda: credits.request_key(1, "uploadAvatar", "k" * 101))
    assert message_text(key, "id") == "Kunci idempotensi maksimal 100 karakter yang bisa dicetak."
    name = _raised(lambda: users._check_username("ab"))
    assert message_text(name, "id").startswith("Nama pengguna terdiri dari 3-64 karakter: huruf, angka")
    size = _raised(lambda: output_size(settings, "poster"))
    assert size.message == "size must be one of square, portrait, landscape."
    assert message_text(size, "id") == "Ukuran harus salah satu dari: persegi, potret, lanskap."
    style = _raised(lambda: PromptOverrides(style_preset="vaporwave"))
    assert message_text(style, "id").startswith("Preset gaya 'vaporwave' tidak dikenal; pilih salah satu: studio")
    missing = _raised(lambda: LocalFileStore(tmp_path).path("../etc/passwd"))
    assert (missing.message, message_text(missing, "id")) == ("File not found.", "File tidak ditemukan.")

    limiter = LoginLimiter(per_account=1, per_address=10, window_seconds=60, storage_uri="memory://")
    limiter.count_attempt(username="dewi", address="198.51.100.7")
    wait = _raised(lambda: limiter.count_attempt(username="dewi", address="198.51.100.7"))
    assert wait.message.startswith("Too many sign-in attempts for this account (at most 1 in 60 seconds). Try again in ")
    assert message_text(wait, "id") == ("Terlalu banyak percobaan masuk untuk akun ini (maksimal 1 dalam 60 detik). "
                                        f"Coba lagi dalam {wait.retry_after} detik.")
    grant = DomainError("credits.grant_out_of_range", least=1, most=1_000_000)
    assert grant.message == "Grant between 1 and 1,000,000 credits at a time."
    assert message_text(grant, "id") == "Tambahkan 1 sampai 1.000.000 kredit sekali jalan."


class _Req:
    def __init__(self, cookies=None, headers=None):
        self.cookies, self.headers = cookies or {}, headers or {}


def test_language_follows_the_cookie_then_the_browser():
    assert lang(None) == "en"
    assert lang(_Req(headers={"accept-language": "id-ID,id;q=0.9,en;q=0.8"})) == "id"
    assert lang(_Req(headers={"accept-language": "en-US,en;q=0.9"})) == "en"
    assert lang(_Req(headers={"accept-language": "fr-FR"})) == "en"
    assert lang(_Req(cookies={"apg_lang": "en"}, headers={"accept-language": "id-ID"})) == "en"
    assert lang(_Req(cookies={"apg_lang": "id"}, headers={"accept-language": "en-US"})) == "id"
    assert tr(_Req(cookies={"apg_lang": "id"}), "common.credits", user="siti", n=5) == "**siti** · **5** kredit"
    with pytest.raises(KeyError):
        tr(None, "no.such.key")


def test_what_gradio_announces_to_screen_readers_is_translated():
    """Issue 16: screen readers heard the raw key "common.complete". Every key Gradio's status tracker
    announces (read from the installed frontend) has an English and an Indonesian text of ours."""
    import re
    from pathlib import Path

    import gradio

    from ui.locales import EN, ID

    assets = Path(gradio.__file__).parent / "templates" / "frontend" / "assets"
    keys = set()
    for script in assets.glob("statustracker-*.js"):
        # the live-region announcer: announce(t.i18n(`common.complete`), ...) in the minified bundle
        keys |= set(re.findall(r"\w\(\w\.i18n\(`(common\.[a-z_]+)`\),\w\.status\.fn_index\)",
                               script.read_text(errors="replace")))
    assert "common.complete" in keys
    for key in keys:
        assert EN.get(key) and ID.get(key) and EN[key] != key and ID[key] != EN[key], key
