"""Job entry points. Each takes the process's services and ids (never ORM objects or images), opens its
own session, and calls core. The same functions run in the in-process runner and in rq workers."""
from __future__ import annotations

from core import products


def remove_background(services, product_id: int) -> str | None:
    with services.session() as session:
        product = products.run_removal(session, product_id=product_id, store=services.store,
                                       settings=services.settings)
        return product.bg_status if product else None


def render_generation(services, generation_id: int) -> str | None:
    from core import generation

    with services.session() as session:
        row = generation.render_generation(session, generation_id=generation_id, store=services.store,
                                           settings=services.settings)
        return row.status if row else None
