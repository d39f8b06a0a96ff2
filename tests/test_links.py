"""The signed-link service: opaque ids, one salt per purpose, rotation, expiry, single use."""

from __future__ import annotations

import datetime as dt

import pytest

from portal import links
from portal.clock import FrozenClock
from portal.db import Database, migrate

KEY = "k" * 40


@pytest.fixture
async def db(tmp_path):
    database = Database(f"sqlite:///{tmp_path / 'links.sqlite3'}")
    await database.connect()
    await migrate.apply(database)
    yield database
    await database.disconnect()


def service(purpose=links.CONSENT, keys=(KEY,), clock=None, days=14):
    return links.LinkService(
        purpose=purpose,
        keys=list(keys),
        lifetime=dt.timedelta(days=days),
        clock=clock or FrozenClock(),
    )


async def issue(db, svc, **kwargs):
    async with db.write() as conn:
        return await svc.issue(conn, **kwargs)


async def check(db, svc, token, **kwargs):
    async with db.read() as conn:
        return await svc.check(conn, token, **kwargs)


async def test_the_token_carries_only_an_opaque_id_not_who_it_is_for(db):
    svc = service()
    link = await issue(db, svc, person_id=None, phone="+12015550101")
    assert "2015550101" not in link.token
    assert svc.link_id_of(link.token) == link.link_id
    assert (await check(db, svc, link.token)).phone == "+12015550101"


async def test_a_token_signed_for_another_purpose_is_invalid(db):
    reset_token = (await issue(db, service(links.PASSWORD_RESET))).token
    with pytest.raises(links.LinkInvalid):
        await check(db, service(links.CONSENT), reset_token)


@pytest.mark.parametrize(
    "damage",
    [
        lambda t: t[:-1],
        lambda t: t[:10],
        lambda t: t + "x",
        lambda t: "A" + t[1:],
        lambda t: "",
    ],
)
async def test_a_tampered_or_truncated_token_is_invalid(db, damage):
    svc = service()
    token = (await issue(db, svc)).token
    with pytest.raises(links.LinkInvalid):
        await check(db, svc, damage(token))


async def test_links_signed_with_an_old_key_still_work_while_it_is_in_the_rotation_list(db):
    old = (await issue(db, service(keys=("old-key" * 6,)))).token
    rotated = service(keys=("old-key" * 6, KEY))
    assert await check(db, rotated, old)
    with pytest.raises(links.LinkInvalid):
        await check(db, service(keys=(KEY,)), old)


async def test_a_link_works_through_its_whole_lifetime_and_expires_one_second_after(db):
    clock = FrozenClock()
    svc = service(clock=clock, days=14)
    token = (await issue(db, svc)).token
    clock.advance(days=14, seconds=-1)
    assert await check(db, svc, token)
    clock.advance(seconds=1)
    assert await check(db, svc, token)  # exactly at its lifetime: still good
    clock.advance(seconds=1)
    with pytest.raises(links.LinkExpired):
        await check(db, svc, token)


async def test_a_link_is_used_once_and_a_second_use_is_refused(db):
    svc = service()
    token = (await issue(db, svc)).token
    async with db.write() as conn:
        link = await svc.check(conn, token)
        await svc.use(conn, link.id, answer="yes")
    with pytest.raises(links.LinkUsed):
        await check(db, svc, token)
    async with db.write() as conn:
        with pytest.raises(links.LinkUsed):
            await svc.use(conn, link.id, answer="no")
    assert (await check(db, svc, token, allow_used=True)).answer == "yes"


def test_an_unknown_purpose_is_refused():
    with pytest.raises(ValueError):
        service(purpose="something-else")
