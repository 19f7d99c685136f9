"""``/agreement`` and the agreement buttons, for family members and practitioners.

Commands (parents; practitioners put the family's name first, e.g. ``/agreement Green send``):

    /agreement                        the active version (message + printable HTML) and the draft
    /agreement remove N               remove item N from the draft
    /agreement chore N DAYS [TIME]    a chore's days ("daily", "mon,wed,fri") and time ("17:30")
    /agreement who N NAME             which child does chore N
    /agreement consequence N TEXT     the agreed consequence of rule N
    /agreement add chore|rule|safety TEXT
    /agreement send                   ask everyone to agree the draft

Buttons (``g1:``; every id is checked against the presser's family, a forged one is refused
and audited): ``v:<item>:a|c`` agree / ask for a change, ``ask:<version>`` ask everyone,
``rm:<item>`` remove, ``rq:<version>`` ask for a change of the active version, ``idea``
suggest an idea, ``cc:<check-in>:y|n`` a parent confirms a chore, ``fam:<family>`` (a
practitioner picks a family).
"""

from __future__ import annotations

from datetime import datetime

from rpbot.scheduling.rules import Rule, RuleError
from rpbot.services.agreements import (
    DEFAULT_CHORE_TIME,
    Agreements,
    Proposal,
    Snapshot,
    render_html,
    render_text,
)
from rpbot.services.callbacks import agreement_data, parse_agreement
from rpbot.services.incoming import Incoming
from rpbot.services.outbox import Outbox, OutButton
from rpbot.services.refusals import refuse
from rpbot.storage.repos import Repos
from rpbot.storage.tables import Family, Member, Practitioner
from rpbot.storage.tables_agreements import AgreementItem, AgreementVersion

NOT_YOURS = "That isn't available here."
GONE = "That has moved on - /agreement shows the latest 🙂"
NOTHING_YET = (
    "Your family hasn't started a household agreement yet. A grown-up can suggest jobs, rules "
    "and a safety plan with /chores."
)
CHILD_CANNOT_EDIT = (
    "Only a grown-up or your worker can change the agreement. You can ask for a change: "
    "/agreement, then ✏️ 🙂"
)
USAGE = (
    "To change the draft: remove N · chore N DAYS TIME (e.g. chore 1 mon,wed,fri 17:30) · "
    "who N NAME · consequence N TEXT · add rule|chore|safety TEXT · send (ask everyone)."
)


class AgreementDesk:
    """Shows agreements and handles their commands and buttons."""

    def __init__(self, agreements: Agreements) -> None:
        self.agreements = agreements

    # --- showing ---------------------------------------------------------------------

    async def show(
        self,
        repos: Repos,
        out: Outbox,
        chat: int,
        family: Family,
        viewer: Member | None,
        now: datetime,
    ) -> None:
        """The active version (message + HTML file) and the draft, with the viewer's buttons."""
        family_id = family.id or 0
        versions = await self.agreements.versions(repos, family_id)
        member_id = viewer.id if viewer is not None else None
        if not versions:
            rows = [[OutButton("💡 Suggest an idea", agreement_data("idea"))]] if viewer else []
            await out.send(chat, NOTHING_YET, rows, member_id=member_id)
            return
        active = next((v for v in versions if v.status == "active"), None)
        latest = versions[-1]
        can_edit = viewer is None or viewer.role == "parent"
        if active is not None:
            snap = await self.agreements.snapshot(repos, active, family_id)
            rows = []
            if viewer is not None:
                rows.append(
                    [
                        OutButton("✏️ Ask for a change", agreement_data("rq", active.id or 0)),
                        OutButton("💡 Suggest an idea", agreement_data("idea")),
                    ]
                )
            await out.send(chat, render_text(snap), rows, member_id=member_id)
            await out.document(
                chat,
                f"household-agreement-v{active.number}.html",
                render_html(snap, family.name, await self._agreed_by(repos, snap)),
                "Your household agreement: open it on your phone, or print it.",
                member_id=member_id,
            )
        if latest.status == "draft":
            await self._show_draft(repos, out, chat, family, latest, viewer, can_edit)
        elif active is None:
            await out.send(chat, NOTHING_YET, member_id=member_id)

    async def _show_draft(
        self,
        repos: Repos,
        out: Outbox,
        chat: int,
        family: Family,
        draft: AgreementVersion,
        viewer: Member | None,
        can_edit: bool,
    ) -> None:
        snap = await self.agreements.snapshot(repos, draft, family.id or 0)
        text = render_text(snap).replace("Household agreement", "Draft household agreement", 1)
        if draft.asked_at is not None:
            text += "\n\n" + await self._progress(repos, snap, family.id or 0)
        elif can_edit:
            text += f"\n\n{USAGE}"
        rows: list[list[OutButton]] = []
        if can_edit and draft.asked_at is None and snap.items:
            rows.append(
                [OutButton("📨 Ask everyone to agree", agreement_data("ask", draft.id or 0))]
            )
            removes = [
                OutButton(f"🗑 {n}", agreement_data("rm", item.id or 0))
                for n, item in enumerate(snap.items, start=1)
            ]
            rows += [removes[i : i + 5] for i in range(0, len(removes), 5)]
        member_id = viewer.id if viewer is not None else None
        await out.send(chat, text, rows, member_id=member_id)

    async def _progress(self, repos: Repos, snap: Snapshot, family_id: int) -> str:
        votes = await repos.agreements.votes(snap.version.id or 0)
        voters = await self.agreements.voters(repos, family_id, snap.version.asked_at)
        total = len(snap.items)
        parts = []
        for member in voters:
            agreed = sum(1 for v in votes if v.member_id == member.id and v.choice == "agree")
            mark = "✅" if agreed >= total else f"{agreed} of {total}"
            parts.append(f"{member.display_name} {mark}")
        return "Agreed so far: " + ", ".join(parts)

    async def _agreed_by(
        self, repos: Repos, snap: Snapshot
    ) -> dict[int, list[tuple[str, datetime]]]:
        votes = await repos.agreements.votes(snap.version.id or 0)
        out: dict[int, list[tuple[str, datetime]]] = {}
        for vote in votes:
            if vote.choice == "agree":
                name = snap.names.get(vote.member_id, "someone")
                out.setdefault(vote.item_id, []).append((name, vote.at))
        return out

    # --- commands --------------------------------------------------------------------

    async def member_command(
        self, repos: Repos, out: Outbox, member: Member, family: Family, args: str, now: datetime
    ) -> None:
        """``/agreement [edit]`` from a parent or child."""
        chat = member.chat_id or 0
        if not args.strip():
            await self.show(repos, out, chat, family, member, now)
            return
        if member.role != "parent":
            await out.send(chat, CHILD_CANNOT_EDIT, member_id=member.id)
            return
        said = await self.edit(repos, out, family, args, member, now, tell=chat)
        if said:
            await out.send(chat, said, member_id=member.id)
        if said and not said.startswith("Sorry"):
            await self.show(repos, out, chat, family, member, now)

    async def practitioner_command(
        self,
        repos: Repos,
        out: Outbox,
        practitioner: Practitioner,
        chat: int,
        args: str,
        now: datetime,
    ) -> None:
        """``/agreement [FAMILY [edit]]`` from a practitioner."""
        families = await repos.families.for_practitioner(practitioner.id or 0)
        words = args.split(maxsplit=1)
        match = [f for f in families if words and f.name.casefold() == words[0].casefold()]
        if not match:
            if not families:
                await out.send(chat, "You have no families yet. Add one with /newfamily.")
                return
            rows = [[OutButton(f.name, agreement_data("fam", f.id or 0))] for f in families]
            await out.send(chat, "Whose household agreement?", rows)
            return
        family = match[0]
        await repos.audit.record(
            now, "practitioner", practitioner.id, "view_agreement", "family", family.id
        )
        rest = words[1] if len(words) > 1 else ""
        if rest.strip():
            said = await self.edit(repos, out, family, rest, None, now, tell=chat)
            if said:
                await out.send(chat, said)
            if not said or said.startswith("Sorry"):
                return
        await self.show(repos, out, chat, family, None, now)

    async def edit(
        self,
        repos: Repos,
        out: Outbox,
        family: Family,
        args: str,
        by: Member | None,
        now: datetime,
        *,
        tell: int | None = None,
    ) -> str:
        """Carry out one edit command on the family's draft; say what happened ("" if chat
        ``tell`` was told already)."""
        words = args.split()
        action = words[0].casefold()
        family_id = family.id or 0
        if action == "send":
            versions = await self.agreements.versions(repos, family_id)
            draft = versions[-1] if versions and versions[-1].status == "draft" else None
            if draft is None:
                return "Sorry, there is no draft to send. Suggest ideas with /chores first."
            return await self.agreements.ask_everyone(repos, out, draft, family, now, tell=tell)
        if (
            action == "add"
            and len(words) >= 3
            and words[1].casefold() in ("chore", "rule", "safety")
        ):
            kind = words[1].casefold()
            text = " ".join(words[2:])[:300]
            draft = await self.agreements.editable_draft(repos, family_id, now)
            only = await self._only_child(repos, family_id) if kind == "chore" else None
            proposal = Proposal(
                kind,
                text,
                child_member_id=only,
                time_of_day=DEFAULT_CHORE_TIME if kind == "chore" else None,
            )
            await self.agreements.add(repos, draft, [proposal], by.id if by else None, now)
            return f"Added to the draft (version {draft.number})."
        if action not in ("remove", "chore", "who", "consequence") or len(words) < 2:
            return f"Sorry, I didn't understand that. {USAGE}"
        if not (words[1].isascii() and words[1].isdigit()):
            return f"Sorry, which number? {USAGE}"
        draft = await self.agreements.editable_draft(repos, family_id, now)
        items = await repos.agreements.items(draft.id or 0)
        number = int(words[1])
        if not 1 <= number <= len(items):
            return f"Sorry, the draft has no item {number}."
        item = items[number - 1]
        if action == "remove":
            await repos.agreements.remove_item(item)
            for position, rest in enumerate(await repos.agreements.items(draft.id or 0), 1):
                rest.position = position
                await repos.agreements.save(rest)
            return f"Removed “{item.text}” from the draft (version {draft.number})."
        if action == "consequence":
            if item.kind != "rule" or len(words) < 3:
                return "Sorry, that works for a house rule, with the consequence after its number."
            item.consequence = " ".join(words[2:])[:300]
        elif action == "who":
            members = await repos.members.in_family(family_id)
            name = " ".join(words[2:]).casefold()
            child = next(
                (m for m in members if m.role == "child" and m.display_name.casefold() == name),
                None,
            )
            if item.kind != "chore" or child is None:
                return "Sorry, that works for a job, with a child's name after its number."
            item.child_member_id = child.id
        else:
            if item.kind != "chore" or len(words) < 3:
                return (
                    "Sorry, that works for a job: chore N DAYS TIME, e.g. chore 1 mon,wed,fri 17:30"
                )
            at = words[-1] if ":" in words[-1] else (item.time_of_day or DEFAULT_CHORE_TIME)
            days_words = words[2:-1] if ":" in words[-1] else words[2:]
            try:
                rule = Rule.parse(" ".join(days_words) if days_words else "daily", at)
            except RuleError as exc:
                return f"Sorry: {exc}."
            item.days, item.time_of_day = rule.days_text, rule.time_text
        await repos.agreements.save(item)
        return f"Changed item {number} in the draft (version {draft.number})."

    async def _only_child(self, repos: Repos, family_id: int) -> int | None:
        children = [m for m in await repos.members.in_family(family_id) if m.role == "child"]
        return children[0].id if children else None

    # --- buttons ---------------------------------------------------------------------

    async def member_button(
        self,
        repos: Repos,
        out: Outbox,
        member: Member,
        family: Family,
        data: str,
        message_id: int | None,
        now: datetime,
    ) -> str | None:
        """A g1 button from a parent or child; a forged id is refused and audited."""
        parsed = parse_agreement(data)
        if parsed is None:
            return NOT_YOURS
        action, args = parsed
        chat = member.chat_id or 0
        if action == "idea":
            await self.agreements.ask_idea(repos, out, member)
            return None
        target = args[0] if args and isinstance(args[0], int) else None
        if target is None:
            return NOT_YOURS
        if action == "cc":
            entry = await repos.chore_logs.by_id(target)
            if entry is None:
                return GONE
            if entry.family_id != member.family_id:
                await refuse(
                    repos, now, "member", member.id, "agreement", target, target_type="chore_log"
                )
                return NOT_YOURS
            if member.role != "parent":
                return NOT_YOURS
            if message_id is not None:
                await out.drop_buttons(chat, message_id)
            return await self.agreements.confirm(
                repos, out, member, entry, str(args[1]) if len(args) > 1 else "y", now
            )
        found = await self._owned(repos, action, target)
        if found is None:
            return GONE
        version, item, family_id = found
        if family_id != member.family_id:
            what = "agreement_item" if item is not None else "agreement_version"
            await refuse(repos, now, "member", member.id, "agreement", target, target_type=what)
            return NOT_YOURS
        if action == "v" and item is not None and len(args) > 1:
            if message_id is not None:
                await out.drop_buttons(chat, message_id)
            if args[1] == "a":
                return await self.agreements.agree(repos, out, member, item, version, now)
            current = version.status == "active" or (
                version.status == "draft" and version.asked_at is not None
            )
            if not current:
                return GONE
            await self.agreements.ask_reason(repos, out, member, item)
            return None
        if action == "rq" and item is None:
            if version.status != "active":
                return GONE
            snap = await self.agreements.snapshot(repos, version, family_id)
            rows = [
                [OutButton(f"{n}. {i.text}"[:40], agreement_data("v", i.id or 0, "c"))]
                for n, i in enumerate(snap.items, start=1)
            ]
            await out.send(chat, "Which part would you like to change?", rows, member_id=member.id)
            return None
        if member.role != "parent":
            return NOT_YOURS
        return await self._edit_button(repos, out, family, action, version, item, chat, member, now)

    async def practitioner_button(
        self,
        repos: Repos,
        out: Outbox,
        practitioner: Practitioner,
        chat: int,
        data: str,
        now: datetime,
    ) -> str | None:
        """A g1 button from a practitioner (only for their own families)."""
        parsed = parse_agreement(data)
        if parsed is None or not parsed[1] or not isinstance(parsed[1][0], int):
            return NOT_YOURS
        action, args = parsed
        target = int(args[0])
        if action == "fam":
            family = await repos.families.by_id(target)
            if family is None or family.practitioner_id != practitioner.id:
                await refuse(
                    repos,
                    now,
                    "practitioner",
                    practitioner.id,
                    "agreement",
                    target,
                    target_type="family",
                )
                return NOT_YOURS
            await self.practitioner_command(repos, out, practitioner, chat, family.name, now)
            return None
        found = await self._owned(repos, action, target)
        if found is None:
            return GONE
        version, item, family_id = found
        family = await repos.families.by_id(family_id)
        if (
            family is None
            or family.practitioner_id != practitioner.id
            or action not in ("ask", "rm")
        ):
            what = "agreement_item" if item is not None else "agreement_version"
            await refuse(
                repos, now, "practitioner", practitioner.id, "agreement", target, target_type=what
            )
            return NOT_YOURS
        return await self._edit_button(repos, out, family, action, version, item, chat, None, now)

    async def _owned(
        self, repos: Repos, action: str, target: int
    ) -> tuple[AgreementVersion, AgreementItem | None, int] | None:
        """(version, item, family id) a button names: an item (v, rm) or a version (ask, rq)."""
        item = None
        if action in ("v", "rm"):
            item = await repos.agreements.item(target)
            version = await repos.agreements.version(item.version_id) if item else None
        elif action in ("ask", "rq"):
            version = await repos.agreements.version(target)
        else:
            return None
        if version is None:
            return None
        family_id = await self.agreements.family_of(repos, version)
        return (version, item, family_id) if family_id is not None else None

    async def _edit_button(
        self,
        repos: Repos,
        out: Outbox,
        family: Family,
        action: str,
        version: AgreementVersion,
        item: AgreementItem | None,
        chat: int,
        member: Member | None,
        now: datetime,
    ) -> str | None:
        member_id = member.id if member is not None else None
        if version.status != "draft":
            return GONE
        if action == "ask":
            said = await self.agreements.ask_everyone(repos, out, version, family, now, tell=chat)
            if said:
                await out.send(chat, said, member_id=member_id)
            return None
        if action == "rm" and item is not None:
            items = await repos.agreements.items(version.id or 0)
            number = next(n for n, i in enumerate(items, start=1) if i.id == item.id)
            said = await self.edit(repos, out, family, f"remove {number}", member, now)
            await out.send(chat, said, member_id=member_id)
            await self.show(repos, out, chat, family, member, now)
            return None
        return NOT_YOURS


async def practitioner_update(
    desk: AgreementDesk,
    repos: Repos,
    out: Outbox,
    practitioner: Practitioner,
    incoming: Incoming,
    now: datetime,
) -> tuple[bool, str | None]:
    """A practitioner's ``/agreement`` or g1 button: (handled, notice)."""
    if incoming.kind == "command" and incoming.command == "agreement":
        await desk.practitioner_command(
            repos, out, practitioner, incoming.chat_id, incoming.args, now
        )
        return True, None
    if incoming.kind == "button" and (incoming.data or "").startswith("g1:"):
        notice = await desk.practitioner_button(
            repos, out, practitioner, incoming.chat_id, incoming.data or "", now
        )
        return True, notice
    return False, None
