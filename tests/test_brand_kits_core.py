"""core.catalog.brand_kits against a real database (SQLite and Postgres) and a real file store."""
from __future__ import annotations

import io
import threading

import pytest
import sqlalchemy as sa
from PIL import Image, PngImagePlugin
from pydantic import ValidationError
from sqlalchemy.exc import IntegrityError
from sqlmodel import select

from core.catalog import brand_kits
from core.accounts import credits
from core.catalog.brand_kits import BrandKitCreate, BrandKitUpdate
from core.errors import ImageRejected, InsufficientCredits, NotFound, ValidationFailed
from db.models import Avatar, BrandKit, CreditLedger, Product, User


def data(name: str = "Kopi Senja", **extra) -> BrandKitCreate:
    values = {"brandName": name, "colors": ["#6f4e37", "#F5F5DC"], "fonts": ["Poppins", "Noto Serif"]}
    values.update(extra)
    return BrandKitCreate(**values)


def transparent_png(comment: str = "made in a test") -> bytes:
    """64x32: left half fully transparent, right half opaque red; with a text chunk to be stripped."""
    image = Image.new("RGBA", (64, 32), (255, 0, 0, 255))
    image.paste((0, 0, 0, 0), (0, 0, 32, 32))
    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", comment)
    buf = io.BytesIO()
    image.save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


@pytest.fixture
def owner(make_user):
    return make_user("owner", password=None)


@pytest.fixture
def other(make_user):
    return make_user("other", password=None)


def balance(session, user) -> int:
    return credits.balance(session, user_id=user.id)


def actions(session, user) -> list[tuple[str, int]]:
    rows = session.exec(select(CreditLedger).where(CreditLedger.user_id == user.id).order_by(CreditLedger.id))
    return [(r.action, r.delta) for r in rows][1:]  # without the starting grant


def defaults(session, user) -> list[int]:
    return list(session.exec(select(BrandKit.id).where(BrandKit.user_id == user.id, BrandKit.is_default.is_(True))))


# --------------------------------------------------------------------------- create / list / get


def test_create_stores_the_kit_charges_5_and_the_first_is_default(session, owner):
    kit = brand_kits.create(session, user=owner, data=data(tagline="Kopi untuk semua", tone="playful",
                                                           category="beverage"))
    session.expire_all()
    row = session.get(BrandKit, kit.id)
    assert (row.user_id, row.brand_name, row.tone, row.category, row.tagline) == (
        owner.id, "Kopi Senja", "playful", "beverage", "Kopi untuk semua")
    assert row.colors == ["#6F4E37", "#F5F5DC"]  # normalised to upper case
    assert row.fonts == ["Poppins", "Noto Serif"]
    assert row.is_default and row.logo_path is None and row.usage_count == 0
    assert balance(session, owner) == 995
    ledger = session.exec(select(CreditLedger).where(CreditLedger.user_id == owner.id,
                                                     CreditLedger.action == "createBrandKit")).one()
    assert (ledger.delta, ledger.app_id, ledger.ref_type, ledger.ref_id) == (-5, "brand-kit", "brand_kit", kit.id)

    # Only the first kit becomes the default; a new kit asking to be the default takes it over.
    second = brand_kits.create(session, user=owner, data=data("x" * 100, colors=["#abcdef"] * 10, tagline="t" * 140))
    assert len(second.brand_name) == 100 and len(second.colors) == 10 and len(second.tagline) == 140
    assert defaults(session, owner) == [kit.id]
    third = brand_kits.create(session, user=owner, data=data("Third", isDefault=True))
    assert defaults(session, owner) == [third.id]
    assert not session.get(BrandKit, second.id).is_default
    assert balance(session, owner) == 985


@pytest.mark.parametrize("values, field", [
    ({"brandName": ""}, "brand_name"), ({"brandName": "x" * 101}, "brand_name"),
    ({"colors": []}, "colors"), ({"colors": ["#000000"] * 11}, "colors"), ({"colors": ["#12345G"]}, "colors"),
    ({"colors": ["red"]}, "colors"), ({"fonts": ["Comic Sans MS"]}, "fonts"), ({"fonts": []}, "fonts"),
    ({"tone": "angry"}, "tone"), ({"tagline": "x" * 141}, "tagline"), ({"category": "weapons"}, "category"),
    ({"surprise": 1}, "surprise"),
])
def test_bad_input_is_refused_before_anything_happens(values, field):
    with pytest.raises(ValidationError) as err:
        data(**values)
    assert err.value.errors()[0]["loc"][0] in (field, {"brand_name": "brandName"}.get(field))


def test_list_is_own_kits_default_first_with_paging(session, owner, other):
    mine = [brand_kits.create(session, user=owner, data=data(f"Mine {i}", category="food" if i % 2 else "beauty"))
            for i in range(5)]
    brand_kits.create(session, user=other, data=data("Theirs"))
    rows, total = brand_kits.list_kits(session, user=owner)
    assert total == 5
    assert {k.id for k in rows} == {k.id for k in mine}
    assert rows[0].id == mine[0].id and rows[0].is_default
    page, total = brand_kits.list_kits(session, user=owner, limit=2, offset=4)
    assert total == 5 and len(page) == 1
    food, total = brand_kits.list_kits(session, user=owner, category="food")
    assert total == 2 and all(k.category == "food" for k in food)
    with pytest.raises(ValidationFailed):
        brand_kits.list_kits(session, user=owner, limit=0)


def test_another_users_kit_is_not_found_everywhere(session, services, owner, other):
    kit = brand_kits.create(session, user=owner, data=data())
    before = balance(session, other)
    for action in (
        lambda: brand_kits.get(session, user=other, kit_id=kit.id),
        lambda: brand_kits.update(session, user=other, kit_id=kit.id, data=BrandKitUpdate(brandName="Mine now")),
        lambda: brand_kits.set_default(session, user=other, kit_id=kit.id),
        lambda: brand_kits.delete(session, user=other, kit_id=kit.id, store=services.store),
        lambda: brand_kits.upload_logo(session, user=other, kit_id=kit.id, source=transparent_png(),
                                       filename="x.png", store=services.store, settings=services.settings),
    ):
        with pytest.raises(NotFound) as err:
            action()
        assert err.value.status == 404
        assert err.value.message == f"Brand kit {kit.id} not found."  # same as a kit that never existed
        session.rollback()
    with pytest.raises(NotFound) as err:
        brand_kits.get(session, user=other, kit_id=kit.id + 1000)
    assert err.value.message == f"Brand kit {kit.id + 1000} not found."
    session.expire_all()
    row = session.get(BrandKit, kit.id)
    assert row.brand_name == "Kopi Senja" and row.user_id == owner.id and row.logo_path is None
    assert balance(session, other) == before
    assert services.store.all_keys() == []
    assert brand_kits.list_kits(session, user=other) == ([], 0)


# --------------------------------------------------------------------------- update / default / delete


def test_update_charges_2_for_a_real_change_and_the_default_switch_is_free(session, owner):
    a = brand_kits.create(session, user=owner, data=data("A"))
    created = a.updated_at
    a = brand_kits.update(session, user=owner, kit_id=a.id, data=BrandKitUpdate(colors=["#000000"], tagline="Baru"))
    assert a.colors == ["#000000"] and a.tagline == "Baru" and a.updated_at > created
    brand_kits.update(session, user=owner, kit_id=a.id, data=BrandKitUpdate(tagline="Baru"))  # no change: free
    brand_kits.update(session, user=owner, kit_id=a.id, data=BrandKitUpdate())
    assert actions(session, owner) == [("createBrandKit", -5), ("updateBrandKit", -2)]
    session.expire_all()
    assert session.get(BrandKit, a.id).colors == ["#000000"]
    with pytest.raises(ValidationFailed):
        brand_kits.update(session, user=owner, kit_id=a.id, data=BrandKitUpdate(brandName=None))
    session.rollback()

    b = brand_kits.create(session, user=owner, data=data("B"))
    before = balance(session, owner)
    brand_kits.set_default(session, user=owner, kit_id=b.id)
    assert defaults(session, owner) == [b.id]
    brand_kits.set_default(session, user=owner, kit_id=b.id)  # already the default: nothing happens
    assert balance(session, owner) == before
    # Unsetting the only default is refused: there is always one.
    with pytest.raises(ValidationFailed) as err:
        brand_kits.update(session, user=owner, kit_id=b.id, data=BrandKitUpdate(isDefault=False))
    assert err.value.field == "isDefault"
    session.rollback()
    assert defaults(session, owner) == [b.id]
    # The default plus a content change costs the update price once.
    brand_kits.update(session, user=owner, kit_id=a.id, data=BrandKitUpdate(isDefault=True, tone="formal"))
    assert defaults(session, owner) == [a.id]
    assert balance(session, owner) == before - 2


def test_deleting_the_default_hands_it_to_an_heir(session, services, owner):
    a = brand_kits.create(session, user=owner, data=data("A"))
    b = brand_kits.create(session, user=owner, data=data("B"))
    c = brand_kits.create(session, user=owner, data=data("C"))
    brand_kits.delete(session, user=owner, kit_id=b.id, store=services.store)  # not the default
    assert defaults(session, owner) == [a.id]
    brand_kits.delete(session, user=owner, kit_id=a.id, store=services.store)
    assert defaults(session, owner) == [c.id]
    brand_kits.delete(session, user=owner, kit_id=c.id, store=services.store)
    assert defaults(session, owner) == []
    assert brand_kits.list_kits(session, user=owner) == ([], 0)
    assert actions(session, owner) == [("createBrandKit", -5)] * 3 + [("deleteBrandKit", -1)] * 3
    d = brand_kits.create(session, user=owner, data=data("D"))  # and the next kit is the default again
    assert defaults(session, owner) == [d.id]


def test_the_database_refuses_a_second_default_and_a_bad_json_shape(services, owner, other):
    def row(user, name, **kw):
        return BrandKit(user_id=user.id, brand_name=name, colors=["#000000"], fonts=["Poppins"], **kw)

    with services.session() as s:
        s.add_all([row(owner, "One", is_default=True), row(owner, "Plain"), row(owner, "Plain 2"),
                   row(other, "Theirs", is_default=True)])
        s.commit()
    with services.session() as s:
        s.add(row(owner, "Two", is_default=True))
        with pytest.raises(IntegrityError):
            s.commit()
    with services.session() as s:
        with pytest.raises(IntegrityError):
            s.execute(sa.update(BrandKit).where(BrandKit.brand_name == "Plain").values(is_default=True))
            s.commit()
    with services.session() as s:
        assert len(defaults(s, owner)) == 1
        s.add(BrandKit(user_id=owner.id, brand_name="Bad", colors=["not a colour"], fonts=["Poppins"]))
        with pytest.raises(Exception, match="RRGGBB"):
            s.commit()
    with services.session() as s:
        assert brand_kits.list_kits(s, user=owner)[1] == 3


def test_concurrent_default_changes_leave_exactly_one_default(services, owner):
    with services.session() as s:
        ids = [brand_kits.create(s, user=owner, data=data(f"K{i}")).id for i in range(8)]
    barrier = threading.Barrier(len(ids))
    errors = []

    def pick(kit_id):
        with services.session() as s:
            barrier.wait()
            try:
                brand_kits.set_default(s, user=owner, kit_id=kit_id)
            except BaseException as exc:  # noqa: BLE001
                errors.append(exc)

    threads = [threading.Thread(target=pick, args=(i,)) for i in ids]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert errors == []
    with services.session() as s:
        assert len(defaults(s, owner)) == 1
        assert balance(s, owner) == 1000 - 8 * 5  # switching the default is free


def test_delete_removes_children_rows_and_all_their_files(session, services, owner):
    store = services.store
    kit = brand_kits.create(session, user=owner, data=data())
    kit = brand_kits.upload_logo(session, user=owner, kit_id=kit.id, source=transparent_png(), filename="l.png",
                                 store=store, settings=services.settings)
    other_kit = brand_kits.create(session, user=owner, data=data("Keep"))
    files = [store.save(b"img", user_id=owner.id, kind=k, ext="jpg")
             for k in ("avatar", "thumb", "product", "cutout", "thumb")]
    kept = store.save(b"img", user_id=owner.id, kind="product", ext="jpg")
    session.add(Avatar(user_id=owner.id, brand_kit_id=kit.id, name="Sari", image_path=files[0],
                       thumbnail_path=files[1], width=10, height=10))
    session.add(Product(user_id=owner.id, brand_kit_id=kit.id, name="Tas", original_path=files[2],
                        cutout_path=files[3], thumbnail_path=files[4], width=10, height=10))
    session.add(Product(user_id=owner.id, brand_kit_id=other_kit.id, name="Kept", original_path=kept,
                        thumbnail_path=kept, width=10, height=10))
    session.commit()
    logo = kit.logo_path
    assert store.exists(logo)

    brand_kits.delete(session, user=owner, kit_id=kit.id, store=store)

    assert session.exec(select(Avatar)).all() == []
    assert [p.name for p in session.exec(select(Product))] == ["Kept"]
    assert store.all_keys() == [kept]
    assert not (store.root / logo).exists()


# --------------------------------------------------------------------------- logo


def test_logo_is_reencoded_keeps_transparency_and_replaces_the_old_file(session, services, owner):
    kit = brand_kits.create(session, user=owner, data=data())
    upload = transparent_png(comment="secret-camera-serial")
    kit = brand_kits.upload_logo(session, user=owner, kit_id=kit.id, source=io.BytesIO(upload),
                                 filename="../../evil name.png", store=services.store, settings=services.settings)
    first = kit.logo_path
    assert first.startswith(f"u{owner.id}/logo/") and first.endswith(".png") and "evil" not in first
    stored = (services.store.root / first).read_bytes()
    assert stored != upload and b"secret-camera-serial" not in stored
    image = Image.open(io.BytesIO(stored))
    assert image.format == "PNG" and image.mode == "RGBA" and image.size == (64, 32)
    assert image.getpixel((5, 5))[3] == 0 and image.getpixel((50, 5)) == (255, 0, 0, 255)

    jpeg = io.BytesIO()
    Image.new("RGB", (40, 20), (0, 128, 255)).save(jpeg, "JPEG")
    second = brand_kits.upload_logo(session, user=owner, kit_id=kit.id, source=jpeg.getvalue(), filename="b.jpg",
                                    store=services.store, settings=services.settings).logo_path
    assert second != first
    assert services.store.all_keys() == [second]  # the old logo file is gone
    session.expire_all()
    assert session.get(BrandKit, kit.id).logo_path == second
    assert actions(session, owner) == [("createBrandKit", -5), ("uploadLogo", -3), ("uploadLogo", -3)]


def test_a_refused_logo_changes_nothing(services, make_settings, make_user, owner):
    poor = make_user("poor", password=None, credits=6)
    session = services.session()
    kit = brand_kits.create(session, user=owner, data=data())
    big = io.BytesIO()
    Image.effect_noise((64, 64), 50).save(big, "PNG")
    small_limit = make_settings(database_url=services.settings.database_url, max_logo_size_mb=0.001)  # ~1 KB
    assert len(big.getvalue()) > small_limit.limit_bytes("logo")
    cases = [
        (b"just some text, not a picture\n" * 10, services.settings, 415),
        (b"%PDF-1.7\n" + b"0" * 200, services.settings, 415),
        (b"", services.settings, 400),
        (b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, services.settings, 400),  # a PNG signature, then garbage
        (big.getvalue(), small_limit, 413),
    ]
    for upload, settings, status in cases:
        with pytest.raises(ImageRejected) as err:
            brand_kits.upload_logo(session, user=owner, kit_id=kit.id, source=upload, filename="logo.png",
                                   store=services.store, settings=settings)
        assert (err.value.status, err.value.field) == (status, "file"), upload[:20]
        session.rollback()
    session.expire_all()
    assert session.get(BrandKit, kit.id).logo_path is None
    assert services.store.all_keys() == []
    assert actions(session, owner) == [("createBrandKit", -5)]

    # Not enough credits for the logo: no file is left behind either.
    poor_kit = brand_kits.create(session, user=poor, data=data())  # 6 -> 1
    with pytest.raises(InsufficientCredits):
        brand_kits.upload_logo(session, user=poor, kit_id=poor_kit.id, source=transparent_png(), filename="l.png",
                               store=services.store, settings=services.settings)
    session.rollback()
    assert services.store.all_keys() == []
    session.expire_all()
    assert session.get(BrandKit, poor_kit.id).logo_path is None
    assert session.get(User, poor.id).credits == 1
    session.close()


# --------------------------------------------------------------------------- stats


def test_stats_count_the_users_own_kits(session, services, owner, other):
    a = brand_kits.create(session, user=owner, data=data("A", category="food", tone="playful"))
    b = brand_kits.create(session, user=owner, data=data("B", category="food", fonts=["Poppins"]))
    c = brand_kits.create(session, user=owner, data=data("C", category="beauty", tone="luxury", isDefault=True))
    brand_kits.create(session, user=other, data=data("Other", category="kids"))
    brand_kits.upload_logo(session, user=owner, kit_id=b.id, source=transparent_png(), filename="l.png",
                           store=services.store, settings=services.settings)
    session.execute(sa.update(BrandKit).where(BrandKit.id == b.id).values(usage_count=7))
    session.execute(sa.update(BrandKit).where(BrandKit.id == c.id).values(usage_count=3))
    session.commit()
    stats = brand_kits.stats(session, user=owner)
    assert stats["totalKits"] == 3
    assert stats["withLogo"] == 1
    assert stats["byCategory"] == {"food": 2, "beauty": 1}
    assert stats["byTone"] == {"playful": 1, "friendly": 1, "luxury": 1}
    assert stats["defaultKitId"] == c.id
    assert [m["id"] for m in stats["mostUsed"]] == [b.id, c.id, a.id]
    assert stats["mostUsed"][0] == {"id": b.id, "brandName": "B", "usageCount": 7}
    assert stats["fontsInUse"] == {"Poppins": 3, "Noto Serif": 2}
    empty = brand_kits.stats(session, user=User(id=10_000, username="nobody"))
    assert empty["totalKits"] == 0 and empty["defaultKitId"] is None and empty["mostUsed"] == []
