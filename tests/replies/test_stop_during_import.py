"""A STOP that arrives while a large roster import runs is answered at once and recorded."""

from __future__ import annotations

import asyncio

import httpx
from twilio_steps import ORG_NUMBER, PAT, twilio_signature

from portal.people import roster

HEADER = "family,kind,first_name,last_name,email,cell_phone,texting,consent_note\r\n"


def test_a_stop_is_recorded_between_the_chunks_of_a_running_import(portal, twilio, monkeypatch):
    monkeypatch.setattr(roster, "CHUNK_ROWS", 20)
    rows = "".join(
        f"Family{n},student,Kid{n},Family{n},,{2015560000 + n},no,\r\n" for n in range(200)
    )
    params = {"MessageSid": "SM" + "8" * 32, "From": PAT, "To": ORG_NUMBER, "Body": "STOP"}
    signature = twilio_signature("http://portal.test/webhooks/twilio/sms", params)
    chunks_written: list[int] = []
    answered: list[tuple[int, int]] = []

    async def scenario():
        async def stop_from_the_handset():
            transport = httpx.ASGITransport(app=portal.app)
            async with httpx.AsyncClient(transport=transport, base_url="http://portal.test") as c:
                response = await c.post(
                    "/webhooks/twilio/sms", data=params, headers={"X-Twilio-Signature": signature}
                )
            answered.append((response.status_code, len(chunks_written)))

        tasks = []

        def progress(done: int, total: int) -> None:
            chunks_written.append(done)
            if len(chunks_written) == 1:  # the import has begun: the STOP arrives now
                tasks.append(asyncio.get_running_loop().create_task(stop_from_the_handset()))

        report = await roster.import_roster(portal.ctx, (HEADER + rows).encode(), progress=progress)
        await asyncio.gather(*tasks)
        return report

    report = portal.call(scenario)
    assert report.ok and report.created == 200
    [(status, chunks_when_answered)] = answered
    assert status == 200
    assert chunks_written[-1] == 200 and len(chunks_written) >= 10
    assert chunks_when_answered < len(chunks_written)  # answered while the import ran
    assert (
        portal.rows("SELECT active FROM phone_suppressions WHERE phone = :p", {"p": PAT})[0].active
        == 1
    )
