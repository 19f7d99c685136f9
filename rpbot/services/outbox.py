"""Recording outgoing messages in the outbox, in the same transaction as what caused them.

Payloads are transport-neutral JSON: text is plain (the sender escapes it), buttons are rows
of {label, data}. Methods: ``send``, ``edit`` (of the message sent for ``ref_id``),
``close`` (show the answer under a question and drop its buttons), ``commands`` (the command
menu for one chat), ``document``, ``photo`` and ``leave``.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from rpbot.storage.repos import Repos
from rpbot.storage.tables import OutboxMessage


@dataclass(frozen=True, slots=True)
class OutButton:
    """One inline button: what it says and the callback data it sends back."""

    label: str
    data: str


Rows = Sequence[Sequence[OutButton]]


def rows_json(rows: Rows) -> list[list[dict[str, str]]]:
    """Button rows as JSON-ready lists."""
    return [[{"label": b.label, "data": b.data} for b in row] for row in rows]


def rows_from_json(data: Any) -> list[list[OutButton]]:
    """Button rows back from their JSON form."""
    return [[OutButton(b["label"], b["data"]) for b in row] for row in data or []]


def layout(
    buttons: Sequence[OutButton], *, commands: Sequence[OutButton] = ()
) -> list[list[OutButton]]:
    """Arrange buttons for a phone: short labels side by side, long ones a row each."""
    rows: list[list[OutButton]] = []
    longest = max((len(b.label) for b in buttons), default=0)
    per_row = 6 if longest <= 3 else 3 if longest <= 8 else 2 if longest <= 16 else 1
    if len(buttons) == 11 and per_row == 6:  # a 0-10 scale reads best as 6 + 5
        rows = [list(buttons[:6]), list(buttons[6:])]
    else:
        rows = [list(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row)]
    if commands:
        rows.append(list(commands))
    return rows


CLAIM_LEASE = timedelta(seconds=60)


def _target(ref: OutboxMessage) -> dict[str, Any]:
    """The sent message an edit changes, when already known (saves a read at send time)."""
    if ref.sent_message_id is None:
        return {}
    original = json.loads(ref.payload_json)
    return {
        "message_id": ref.sent_message_id,
        "text": original.get("text", ""),
        "html": original.get("html", False),
    }


class Outbox:
    """Adds rows to the outbox through one transaction's repositories."""

    def __init__(self, repos: Repos, now: datetime, worker: str | None = None) -> None:
        self.repos = repos
        self.now = now
        self.worker = worker
        self.chats: set[int] = set()
        self.rows: list[OutboxMessage] = []
        self.wake: set[str] = set()  # work to start right after commit, e.g. "digests"

    async def _add(
        self, chat_id: int, method: str, payload: dict[str, Any], **kw: Any
    ) -> OutboxMessage:
        self.chats.add(chat_id)
        if self.worker is not None:  # claimed for the worker that sends it after commit
            kw["claimed_by"], kw["claim_expires_at"] = self.worker, self.now + CLAIM_LEASE
        # Written with the transaction's next flush (a query or the commit), all of its
        # messages in one batch, in the order they were queued.
        row = await self.repos.outbox.add(
            chat_id, method, json.dumps(payload, ensure_ascii=False), self.now, flush=False, **kw
        )
        self.rows.append(row)
        return row

    async def send(
        self,
        chat_id: int,
        text: str,
        rows: Rows = (),
        *,
        member_id: int | None = None,
        run_id: int | None = None,
        prompt: int | None = None,
        html: bool = False,
        secret: bool = False,
    ) -> OutboxMessage:
        """Queue a message (``html``: the text is already safe HTML; ``secret``: its text is
        removed from the database once sent, e.g. an invite code). Its id is set when the
        transaction next flushes."""
        payload: dict[str, Any] = {"text": text, "buttons": rows_json(rows), "html": html}
        if secret:
            payload["secret"] = True
        return await self._add(
            chat_id,
            "send",
            payload,
            member_id=member_id,
            run_id=run_id,
            prompt=prompt,
        )

    async def _known(self, ref: OutboxMessage) -> None:
        if ref.id is None:  # queued in this transaction: write it to learn its id
            await self.repos.session.flush()

    async def edit_buttons(self, ref: OutboxMessage, rows: Rows) -> None:
        """Queue new buttons for the message sent for ``ref``."""
        await self._known(ref)
        payload = {"buttons": rows_json(rows), **_target(ref)}
        await self._add(ref.chat_id, "edit", payload, member_id=ref.member_id, ref_id=ref.id)

    async def close(self, ref: OutboxMessage, answer: str) -> None:
        """Queue closing a question: drop its buttons and show the answer under it."""
        await self._known(ref)
        payload = {"answer": answer, **_target(ref)}
        await self._add(ref.chat_id, "close", payload, member_id=ref.member_id, ref_id=ref.id)

    async def drop_buttons(self, chat_id: int, message_id: int) -> None:
        """Queue removing the buttons of a message known by its Telegram id."""
        await self._add(chat_id, "edit", {"buttons": [], "message_id": message_id})

    async def commands(self, chat_id: int, commands: Sequence[tuple[str, str]]) -> None:
        """Queue setting the command menu shown in one chat."""
        await self._add(chat_id, "commands", {"commands": [list(c) for c in commands]})

    async def document(
        self,
        chat_id: int,
        filename: str,
        content: str,
        caption: str,
        *,
        member_id: int | None = None,
        secret: bool = False,
    ) -> None:
        """Queue a text document (HTML or JSON) to send (``secret``: as for :meth:`send`)."""
        payload: dict[str, Any] = {"filename": filename, "content": content, "caption": caption}
        if secret:
            payload["secret"] = True
        await self._add(chat_id, "document", payload, member_id=member_id)

    async def photo(
        self,
        chat_id: int,
        png: bytes,
        caption: str,
        *,
        filename: str = "chart.png",
        member_id: int | None = None,
    ) -> None:
        """Queue a picture (e.g. a digest chart; the bytes are kept base64-encoded)."""
        payload = {
            "filename": filename,
            "content_b64": base64.b64encode(png).decode("ascii"),
            "caption": caption,
        }
        await self._add(chat_id, "photo", payload, member_id=member_id)

    async def leave(self, chat_id: int) -> None:
        """Queue leaving a group chat."""
        await self._add(chat_id, "leave", {})
