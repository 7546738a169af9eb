"""Small real things for tests and benches: a shop (user, brand kit, avatar, product whose cut-out is
ready) built through core, the way a user would build it. Import as `tests.factories`."""
from __future__ import annotations

import io
from dataclasses import dataclass

import numpy as np
from PIL import Image
from sqlmodel import select

from core.catalog import avatars, brand_kits, products
from core.accounts import users
from core.catalog.avatars import AvatarCreate
from core.catalog.background import cut_out_with_mask
from core.catalog.brand_kits import BrandKitCreate
from core.catalog.products import ProductCreate
from db.models import Avatar, BrandKit, PoseTemplate, Product, User


def photo(color, size=(64, 96)) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, color).save(buf, "PNG")
    return buf.getvalue()


@dataclass
class Shop:
    user: User
    kit: BrandKit
    avatar: Avatar
    product: Product
    templates: list[PoseTemplate]  # active hand-right templates (the library must be loaded)

    @property
    def template(self) -> PoseTemplate:
        return self.templates[0]


def ready_shop(svc, name: str = "siti") -> Shop:
    """A user with a kit, an avatar and a hand-held bottle whose cut-out is made from a real mask
    (no rembg weights needed), plus the matching library templates."""
    with svc.session() as s:
        user = users.create_user(s, username=name, password=None, settings=svc.settings)
        kit = brand_kits.create(s, user=user, data=BrandKitCreate(brand_name="Toko", colors=["#AA3355"],
                                                                  fonts=["Poppins"]))
        avatar = avatars.upload(s, user=user, data=AvatarCreate(brand_kit_id=kit.id, name="Sari", gender="female"),
                                source=photo((200, 170, 150)), filename="sari.png", store=svc.store,
                                settings=svc.settings)
        product = products.upload(s, user=user, data=ProductCreate(placement="hand-right", product_type="bottle",
                                                                   brand_kit_id=kit.id),
                                  source=photo((30, 120, 200)), filename="serum.png", store=svc.store,
                                  settings=svc.settings, runner=None)
        pixels = np.zeros((96, 64, 4), np.uint8)
        pixels[..., :3], pixels[..., 3] = (30, 120, 200), 255
        mask = np.zeros((96, 64), np.uint8)
        mask[20:80, 20:44] = 255
        product.cutout_path = svc.store.save(cut_out_with_mask(pixels, mask).png, user_id=user.id, kind="cutout",
                                             ext="png")
        product.bg_status = "done"
        s.add(product)
        s.commit()
        templates = list(s.exec(select(PoseTemplate).where(PoseTemplate.product_placement == "hand-right",
                                                           PoseTemplate.is_active.is_(True))
                                .order_by(PoseTemplate.id)))
        return Shop(user, kit, avatar, product, templates)
