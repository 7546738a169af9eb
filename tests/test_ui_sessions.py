"""Gradio handlers that only read run in read-only sessions (ui.common.act(write=False)): the credit badge of
every page load, lists, details and the Results page's 1.5 s poll are served while a batch holds SQLite's write
lock, and a read handler cannot write. AUTH=none's local admin is created once, by whichever request comes
first, read or write (services.local_admin)."""
from __future__ import annotations

import pytest
from sqlmodel import select

from core.accounts import credits, users
from db.models import BrandKit, User
from tests.test_load import sqlite_write_lock
from ui.common import Failed, act, credits_text


@pytest.mark.parametrize("db_kind", ["sqlite"])
def test_read_handlers_are_served_while_a_writer_holds_sqlite(services):
    first = act(services, None, lambda s, u: (u.username, credits.balance(s, user_id=u.id)), write=False)
    assert first == (services.settings.local_admin_username, 1000)   # the admin appeared on a read
    with sqlite_write_lock(services.settings.database_url):
        assert "1000" in credits_text(services, None)
        assert act(services, None, lambda s, u: u.is_admin, write=False) is True


def test_a_read_handler_cannot_write_and_leaves_nothing(services):
    def sneaky(session, user):
        session.add(BrandKit(user_id=user.id, brand_name="Sneaky", colors=["#000000"], fonts=["Poppins"]))
        session.commit()

    with pytest.raises(Failed):
        act(services, None, sneaky, write=False)
    with services.session() as s:
        assert list(s.exec(select(BrandKit))) == []
    act(services, None, sneaky)   # the same handler with a write session stores its row
    with services.session() as s:
        assert [k.brand_name for k in s.exec(select(BrandKit))] == ["Sneaky"]


def test_the_local_admin_is_created_once_however_it_is_first_asked_for(services):
    assert services.local_admin().username == services.settings.local_admin_username
    act(services, None, lambda s, u: None)
    act(services, None, lambda s, u: None, write=False)
    with services.session() as s:
        admins = list(s.exec(select(User).where(User.username == services.settings.local_admin_username)))
    assert len(admins) == 1 and admins[0].role == "admin"


def test_with_passwords_a_read_handler_acts_as_the_signed_in_user_only(make_settings, db_url):
    from services import Services

    svc = Services.build(make_settings(auth="password", database_url=db_url), migrate=False, runner=False)
    try:
        with svc.session() as s:
            users.create_user(s, username="siti", password="correct horse battery", settings=svc.settings)

        class Request:   # what gradio hands a handler: the signed-in name
            username = "siti"

        assert act(svc, Request(), lambda s, u: u.username, write=False) == "siti"
        Request.username = None
        with pytest.raises(Failed):
            act(svc, Request(), lambda s, u: u.username, write=False)
        with svc.session() as s:
            assert s.exec(select(User).where(User.username == svc.settings.local_admin_username)).first() is None
    finally:
        svc.close()
