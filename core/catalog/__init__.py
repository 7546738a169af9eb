"""The user's catalog, what a render is made from: brand kits (brand_kits, fonts), avatars (avatars: uploads and
traits; avatar_ai: generated ones) and products (products: uploads, placement; background: the cut-out)."""
