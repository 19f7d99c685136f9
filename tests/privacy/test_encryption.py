"""Encryption at rest, on SQLite and PostgreSQL: ciphertext in the columns, plain text through
the repositories, key rotation, turning it off, and the refusal to start without the key."""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from pydantic import SecretStr

from rpbot.clock import FakeClock
from rpbot.config import Settings
from rpbot.dialogues import default_library
from rpbot.sandbox.emulator import BotApiEmulator
from rpbot.services.privacy import ENCRYPTION_MARKER, check_encryption, rewrite_encrypted
from rpbot.storage import crypto
from rpbot.storage._privacy import encrypted_columns
from rpbot.storage.crypto import DataKeyError
from rpbot.storage.db import Database
from rpbot.storage.tables import SafeguardingAlert
from rpbot.telegram.app import TelegramBot
from tests.privacy.test_privacy_e2e import SAM_ID, sam_checks_in
from tests.telegram.helpers import joined, member_of

pytestmark = pytest.mark.asyncio

NOW = datetime(2026, 11, 23, 18, 0, tzinfo=UTC)
KEY_OLD = crypto.generate_key()
KEY_NEW = crypto.generate_key()
WORDS = "He shouted and I hid in my room"
COLUMNS = (
    ("answers", "free_text"),
    ("answers", "value_json"),
    ("flow_runs", "session_json"),
    ("safeguarding_alerts", "text"),
    ("outbox", "payload_json"),
)


async def seed(db: Database, words: str = WORDS) -> int:
    """A family member with one run, a typed answer, an alert and a queued message; the
    member's id."""
    async with db.transaction() as repos:
        practitioner = await repos.practitioners.add(9001, "Alex", NOW)
        family = await repos.families.create(practitioner.id or 0, "Green", "england", NOW)
        member = await repos.members.create(family.id or 0, "parent", "Sam", NOW, 501, 501)
        session = json.dumps({"answers": {"three_questions": {"worried": words}}})
        run = await repos.runs.create(
            member.id or 0, family.id or 0, "three_questions", 1, session, NOW, NOW
        )
        await repos.answers.add(
            run.id or 0,
            member.id or 0,
            family.id or 0,
            "three_questions",
            "worried",
            "worried",
            "text",
            json.dumps(words),
            words,
            "practitioner",
            NOW,
        )
        await repos.alerts.add(
            SafeguardingAlert(
                family_id=family.id or 0,
                member_id=member.id,
                practitioner_id=practitioner.id or 0,
                role="parent",
                categories="domestic_abuse",
                text=words,
                created_at=NOW,
            )
        )
        await repos.outbox.add(501, "send", json.dumps({"text": words}), NOW, member_id=member.id)
        return member.id or 0


async def raw(db: Database, table: str, column: str) -> list[str]:
    """The stored text of a column, straight from the database."""
    async with db.engine.connect() as connection:
        result = await connection.exec_driver_sql(f'SELECT "{column}" FROM "{table}"')
        return [str(row[0]) for row in result.fetchall() if row[0] is not None]


async def words_through_repos(db: Database, member_id: int) -> list[str]:
    async with db.transaction() as repos:
        (answer,) = await repos.answers.for_member(member_id)
        (run,) = await repos.runs.for_member(member_id)
        alerts = await repos.alerts.for_families([answer.family_id], NOW, NOW + timedelta(1))
        (message,) = await repos.outbox.pending()
        return [
            answer.free_text or "",
            json.loads(answer.value_json),
            json.loads(run.session_json)["answers"]["three_questions"]["worried"],
            alerts[0].text or "",
            json.loads(message.payload_json)["text"],
        ]


async def test_encrypted_columns_hold_no_plain_text(db: Database) -> None:
    crypto.configure(KEY_OLD)
    member_id = await seed(db)
    for table, column in COLUMNS:
        stored = await raw(db, table, column)
        assert stored, (table, column)
        assert all(value.startswith("enc:v1:") for value in stored), (table, column)
        assert all("shouted" not in value for value in stored), (table, column)
    assert await words_through_repos(db, member_id) == [WORDS] * 5


async def test_plain_and_encrypted_values_live_side_by_side(db: Database) -> None:
    member_id = await seed(db)  # written without a key: plain
    assert await raw(db, "answers", "free_text") == [WORDS]
    crypto.configure(KEY_OLD)
    async with db.transaction() as repos:
        (answer,) = await repos.answers.for_member(member_id)
        await repos.answers.add(
            answer.run_id,
            member_id,
            answer.family_id,
            "three_questions",
            "working_well",
            "working_well",
            "text",
            '"calmer"',
            "calmer",
            "practitioner",
            NOW,
        )
    stored = await raw(db, "answers", "free_text")
    assert stored[0] == WORDS
    assert stored[1].startswith("enc:v1:")
    async with db.transaction() as repos:
        texts = [a.free_text for a in await repos.answers.for_member(member_id)]
    assert texts == [WORDS, "calmer"]


@pytest.mark.parametrize("key", [None, KEY_OLD], ids=["no-key", "key"])
async def test_text_that_looks_like_ciphertext_round_trips(db: Database, key: str | None) -> None:
    crypto.configure(key)
    member_id = await seed(db, "enc:v1:not really")
    async with db.transaction() as repos:
        (answer,) = await repos.answers.for_member(member_id)
    assert answer.free_text == "enc:v1:not really"


async def test_rotation_moves_everything_to_the_new_key(db: Database) -> None:
    crypto.configure(KEY_OLD)
    member_id = await seed(db)
    ring = crypto.configure(f"{KEY_NEW},{KEY_OLD}")
    assert ring is not None
    report = await rewrite_encrypted(db, ring, batch=2)
    assert report.reencrypted == 5
    assert report.changed_meanwhile == 0

    crypto.configure(KEY_NEW)  # the old key is no longer needed...
    assert await words_through_repos(db, member_id) == [WORDS] * 5
    crypto.configure(KEY_OLD)  # ...and no longer enough
    with pytest.raises(DataKeyError, match="None of the keys in RPBOT_DATA_KEY"):
        await words_through_repos(db, member_id)


async def test_rotation_encrypts_plain_values_and_decrypt_turns_it_off(db: Database) -> None:
    member_id = await seed(db)
    ring = crypto.configure(KEY_NEW)
    assert ring is not None
    report = await rewrite_encrypted(db, ring)
    assert report.encrypted == 5
    assert all(v.startswith("enc:v1:") for v in await raw(db, "answers", "free_text"))
    async with db.transaction() as repos:
        assert await repos.privacy.get_value(ENCRYPTION_MARKER) == 1

    report = await rewrite_encrypted(db, ring, decrypt=True)
    assert report.decrypted == 5
    assert await raw(db, "answers", "free_text") == [WORDS]
    crypto.configure(None)
    await check_encryption(db)  # off, and nothing encrypted left: fine
    assert await words_through_repos(db, member_id) == [WORDS] * 5


async def test_rotation_never_overwrites_a_value_that_changed(db: Database) -> None:
    crypto.configure(KEY_OLD)
    await seed(db)
    table, column = next((t, c) for t, c in encrypted_columns() if c.name == "free_text")
    async with db.transaction() as repos:
        ((row_id, stored),) = await repos.privacy.raw_batch(table, column, 0)
        assert (
            await repos.privacy.replace_raw(table, column, row_id, "something else", "x") is False
        )
        assert await repos.privacy.replace_raw(table, column, row_id, stored, stored) is True


async def test_the_startup_check(db: Database) -> None:
    await check_encryption(db)  # nothing encrypted, no key: fine
    crypto.configure(KEY_OLD)
    await check_encryption(db)  # records that this database is encrypted from now on
    crypto.configure(None)
    with pytest.raises(DataKeyError, match="RPBOT_DATA_KEY is not set") as refused:
        await check_encryption(db)  # even before anything was encrypted
    assert KEY_OLD not in str(refused.value)

    crypto.configure(KEY_OLD)
    await seed(db)
    crypto.configure(KEY_NEW)
    with pytest.raises(DataKeyError, match="None of the keys in RPBOT_DATA_KEY") as wrong:
        await check_encryption(db)
    assert KEY_NEW not in str(wrong.value)
    crypto.configure(f"{KEY_NEW},{KEY_OLD}")
    await check_encryption(db)


# --- through the real bot ------------------------------------------------------------------


@pytest.mark.parametrize("extra_settings", [{"RPBOT_DATA_KEY": KEY_OLD}])
async def test_the_bot_encrypts_what_people_type(
    bot: TelegramBot,
    emulator: BotApiEmulator,
    database: Database,
    clock: FakeClock,
    family: int,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO)  # as `rpbot run` logs (libraries' DEBUG shows requests)
    caplog.set_level(logging.DEBUG, logger="rpbot")
    sam = await joined(emulator, database, clock, family, SAM_ID, "Sam")
    await sam_checks_in(sam, "Secret family words")
    for table, column in COLUMNS[:3]:
        stored = await raw(database, table, column)
        assert stored
        assert all("Secret family" not in value for value in stored), (table, column)
    member = await member_of(database, SAM_ID)
    async with database.transaction() as repos:
        (answer,) = await repos.answers.for_member(member.id or 0)
    assert answer.free_text == "Secret family words"
    await sam.send("/mydata")
    await sam.next_reply()
    page = await sam.next_reply()
    assert page.document is not None
    assert b"Secret family words" in emulator.file_bytes(str(page.document["file_id"]))
    await sam.next_reply()  # the JSON file
    await sam.send("/forget")
    await sam.next_reply()
    await sam.press("Yes, delete my data")
    await sam.next_reply()
    await bot.sweep_once()
    assert caplog.records
    assert "Secret family" not in caplog.text
    assert KEY_OLD not in caplog.text


async def test_the_bot_refuses_to_start_on_encrypted_data_without_the_key(
    settings: Settings, database: Database, clock: FakeClock
) -> None:
    crypto.configure(KEY_OLD)
    await seed(database)
    bot = TelegramBot(settings, database, default_library(), clock, sweep=False)  # no key
    with pytest.raises(DataKeyError, match="RPBOT_DATA_KEY is not set"):
        await bot.start()
    keyed = settings.model_copy(update={"data_key": SecretStr(KEY_OLD)})
    ok = TelegramBot(keyed, database, default_library(), clock, sweep=False, poll_timeout=1)
    await ok.start()
    await ok.stop()
