"""Household agreements: proposals, versions everyone agrees to, chores, streaks, adherence.

How an agreement comes about (fair process: engagement, explanation, clear expectations):

1. **Proposals.** A parent's ``household_agreement`` flow ends: its chores, rules and
   safety-plan steps become items of the family's editable draft (created if needed, as the
   next version, carrying the items of the latest one). Members can also suggest an idea
   from ``/agreement``.
2. **Edits.** A parent or the practitioner removes an item or changes a chore's child, days or
   time (``/agreement remove 2``, ``/agreement chore 1 mon,wed,fri 17:30``, ...).
3. **Everyone agrees, item by item.** "Ask everyone to agree" sends each parent and child the
   items one at a time with **Agree** / **Ask for a change**. When every member has agreed
   every item, the version becomes ``active`` and the one before it ``superseded``.
4. **Renegotiation.** "Ask for a change" asks for the reason in the person's own words; a new
   draft version opens carrying the items with the change noted, the others are told what was
   asked, and once it has been changed everyone is asked again. Votes are kept per version.
5. **Chores.** The active version's chores become the children's chore check-in schedules
   (``created_by="agreement"``, replacing the earlier version's and the default check-in). A
   child's "done" asks their parents to confirm; streaks are counted kindly, a missed day is a
   fresh start. Adherence per chore (done vs due) goes into the weekly digest.
"""

from __future__ import annotations

import json
import logging
import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta
from typing import Any

from rpbot.digest.model import ChoreLine, Chores, DigestReport
from rpbot.engine import AnswerValue, FlowEnded, Library
from rpbot.engine.text import pick_language
from rpbot.scheduling.rules import DAYS, Rule, RuleError, next_occurrence, zone
from rpbot.services.callbacks import agreement_data
from rpbot.services.outbox import Outbox, OutButton
from rpbot.services.reminders import Reminders
from rpbot.storage.repos import Repos
from rpbot.storage.tables import Family, FlowRun, Member
from rpbot.storage.tables_agreements import AgreementItem, AgreementVersion, ChoreLog

log = logging.getLogger(__name__)

PROPOSAL_FLOW = "household_agreement"
CHORE_FLOW = "chore_checkin"
DEFAULT_CHORE_TIME = "17:00"
OFTEN_DAYS = {"daily": "", "few_times_week": "mon,wed,fri", "weekly": "sat", "mixed": ""}
KIND_ICONS = {"chore": "🧹", "rule": "📋", "safety": "🛟"}
KIND_TITLES = {"chore": "Jobs", "rule": "House rules", "safety": "Safety plan"}
#: chore_checkin's "which chore" values and the agreement chores they can mean.
CHECKIN_KEYS = {
    "tidy_room": ("tidy_room",),
    "dishes": ("washing_up", "lay_table"),
    "feed_pet": ("pet",),
}
DID_IT = {"yes": "done", "a_bit": "a_bit", "not_yet": "not_yet"}
TEXT_MAX = 300


# --- pure helpers ----------------------------------------------------------------------


def plain_label(label: str) -> str:
    """A button label without its leading emoji: "🗑️ Take the bins out" → "Take the bins out"."""
    first, _, rest = label.partition(" ")
    return rest.strip() if rest and not any(ch.isalnum() for ch in first) else label.strip()


def when_text(item: AgreementItem) -> str:
    """ "every day at 17:30", "Mondays, Wednesdays and Fridays at 17:30"."""
    try:
        return Rule.parse(item.days, item.time_of_day or DEFAULT_CHORE_TIME).describe()
    except RuleError:
        return f"{item.days or 'every day'} at {item.time_of_day or DEFAULT_CHORE_TIME}"


def describe_item(item: AgreementItem, names: dict[int, str]) -> str:
    """One item in plain words (no numbering, no HTML)."""
    icon = KIND_ICONS.get(item.kind, "•")
    if item.kind == "chore":
        who = names.get(item.child_member_id or 0, "someone to choose")
        return f"{icon} {item.text}: {who}, {when_text(item)}"
    line = f"{icon} {item.text}"
    if item.kind == "rule" and item.consequence:
        line += f"\n   If it's broken: {item.consequence}"
    return line


def due_days(days: str, start: date, end: date) -> list[date]:
    """The local days in [start, end] a chore with these days falls on."""
    try:
        wanted = Rule.parse(days, DEFAULT_CHORE_TIME).days
    except RuleError:
        wanted = ()
    out, day = [], start
    while day <= end:
        if not wanted or DAYS[day.weekday()] in wanted:
            out.append(day)
        day += timedelta(days=1)
    return out


def streak(days: str, done: set[date], today: date) -> tuple[int, bool]:
    """(chore days in a row done up to ``today``, whether it was ever done before that run)."""
    count, day = 0, today
    due = set(due_days(days, today - timedelta(days=400), today))
    while day >= today - timedelta(days=400):
        if day in due:
            if day not in done:
                break
            count += 1
        day -= timedelta(days=1)
    return count, any(d < day for d in done)


def streak_words(count: int, done_before: bool, days: str = "") -> str:
    """Kind words for a streak; a missed day is never scolded, it is a fresh start."""
    unit = "days" if days in ("", "daily") else "times"
    if count >= 2:
        return f"{count} {unit} in a row 🌟"
    if done_before:
        return "A fresh start today 🌱"
    return "That's your first one ticked off 🌟"


@dataclass(frozen=True)
class Proposal:
    """An item suggested in the household_agreement flow, before it is stored."""

    kind: str
    text: str
    key: str | None = None
    consequence: str | None = None
    child_member_id: int | None = None
    days: str = ""
    time_of_day: str | None = None


def proposals_from_answers(
    library: Library,
    answers: dict[str, AnswerValue],
    children: Sequence[Member],
    language: str = "en",
) -> list[Proposal]:
    """The items a household_agreement run suggests (see the flow's questions)."""
    flow = library[PROPOSAL_FLOW]
    steps = flow.answer_steps()

    def label(name: str, value: str) -> str:
        step = steps.get(name)
        for option in step.choices() if step is not None else ():
            if option.value == value:
                return plain_label(pick_language(option.label, language))
        return value

    def picked(name: str) -> list[str]:
        value = answers.get(name)
        return [str(v) for v in value if v != "other"] if isinstance(value, list) else []

    def words(name: str) -> str | None:
        value = answers.get(name)
        return " ".join(value.split())[:TEXT_MAX] if isinstance(value, str) and value else None

    who_text = (words("chores_who") or "").casefold()
    named = [c for c in children if c.display_name.casefold() in who_text]
    pool = named or list(children)
    child = pool[0] if pool else None
    often = answers.get("chores_often")
    days = OFTEN_DAYS.get(often, "") if isinstance(often, str) else ""
    at = answers.get("chores_time")
    time_of_day = at if isinstance(at, str) and at else DEFAULT_CHORE_TIME
    out = [
        Proposal(
            "chore",
            label("chores", key),
            key,
            child_member_id=child.id if child is not None else None,
            days=days,
            time_of_day=time_of_day,
        )
        for key in picked("chores")
    ]
    rules = [Proposal("rule", label("rules", key), key) for key in picked("rules")]
    if own := words("rules_own"):
        rules.append(Proposal("rule", own))
    consequence = words("rules_consequence")
    if consequence and rules:
        parts = [p.strip() for p in re.split(r"[\n;]+", consequence) if p.strip()]
        if len(parts) == len(rules):
            rules = [replace(r, consequence=p) for r, p in zip(rules, parts, strict=True)]
        elif len(rules) == 1:
            rules = [replace(rules[0], consequence=consequence)]
        else:
            rules.append(Proposal("rule", "Fair consequences we agree", consequence=consequence))
    out += rules
    out += [Proposal("safety", label("safety", key), key) for key in picked("safety")]
    if adults := words("safety_adults"):
        out.append(Proposal("safety", f"Trusted adults: {adults}"))
    if own := words("safety_own"):
        out.append(Proposal("safety", own))
    return out


# --- the service -----------------------------------------------------------------------


@dataclass
class Snapshot:
    """A version with its items and the names of the family's members."""

    version: AgreementVersion
    items: list[AgreementItem]
    names: dict[int, str]


class Agreements:
    """Everything about household agreements that touches storage and the outbox."""

    def __init__(self, library: Library, reminders: Reminders) -> None:
        self.library = library
        self.reminders = reminders

    # --- reading ---------------------------------------------------------------------

    async def versions(self, repos: Repos, family_id: int) -> list[AgreementVersion]:
        """The family's versions, v1 first (none if no agreement was started)."""
        agreement = await repos.agreements.for_family(family_id)
        return await repos.agreements.versions(agreement.id or 0) if agreement else []

    async def snapshot(self, repos: Repos, version: AgreementVersion, family_id: int) -> Snapshot:
        """A version with its items and members' names."""
        members = await repos.members.in_family(family_id)
        names = {m.id or 0: m.display_name for m in members}
        return Snapshot(version, await repos.agreements.items(version.id or 0), names)

    async def family_of(self, repos: Repos, version: AgreementVersion) -> int | None:
        """The family a version belongs to."""
        agreement = await repos.agreements.by_id(version.agreement_id)
        return agreement.family_id if agreement is not None else None

    async def voters(
        self, repos: Repos, family_id: int, asked_at: datetime | None = None
    ) -> list[Member]:
        """Who must agree: every parent and child who has joined and can get messages (who
        had joined by ``asked_at``, when a version was put to everyone then)."""
        members = await repos.members.in_family(family_id)
        return [
            m
            for m in members
            if m.role in ("parent", "child") and m.active and m.chat_id is not None
            if asked_at is None or m.created_at <= asked_at
        ]

    # --- drafts and edits ------------------------------------------------------------

    async def editable_draft(
        self,
        repos: Repos,
        family_id: int,
        now: datetime,
        *,
        change_by: int | None = None,
        reason: str | None = None,
    ) -> AgreementVersion:
        """The draft that can still be edited, or a new version carrying the latest's items.

        A draft already put to everyone is not edited under their feet: a new version opens
        and that draft becomes ``replaced``.
        """
        agreement = await repos.agreements.ensure(family_id, now)
        versions = await repos.agreements.versions(agreement.id or 0)
        latest = versions[-1] if versions else None
        if latest is not None and latest.status == "draft" and latest.asked_at is None:
            if reason is not None and latest.change_reason is None:
                latest.change_reason, latest.change_by_member_id = reason, change_by
                await repos.agreements.save(latest)
            return latest
        new = await repos.agreements.add_version(
            agreement.id or 0,
            (latest.number + 1) if latest else 1,
            now,
            change_by_member_id=change_by,
            change_reason=reason,
        )
        if latest is not None and latest.status in ("draft", "active"):
            for item in await repos.agreements.items(latest.id or 0):
                await repos.agreements.add_item(
                    AgreementItem(
                        version_id=new.id or 0,
                        position=item.position,
                        kind=item.kind,
                        key=item.key,
                        text=item.text,
                        consequence=item.consequence,
                        child_member_id=item.child_member_id,
                        days=item.days,
                        time_of_day=item.time_of_day,
                        proposed_by_member_id=item.proposed_by_member_id,
                        root_id=item.root_id,
                        created_at=now,
                    )
                )
            if latest.status == "draft":
                latest.status = "replaced"
                await repos.agreements.save(latest)
        return new

    async def add(
        self,
        repos: Repos,
        version: AgreementVersion,
        proposals: Iterable[Proposal],
        proposed_by: int | None,
        now: datetime,
    ) -> list[AgreementItem]:
        """Add proposals to a draft, after its items (an identical item is not repeated)."""
        existing = await repos.agreements.items(version.id or 0)
        seen = {(i.kind, i.text.casefold()) for i in existing}
        position = max((i.position for i in existing), default=0)
        added = []
        for proposal in proposals:
            if (proposal.kind, proposal.text.casefold()) in seen:
                continue
            seen.add((proposal.kind, proposal.text.casefold()))
            position += 1
            added.append(
                await repos.agreements.add_item(
                    AgreementItem(
                        version_id=version.id or 0,
                        position=position,
                        kind=proposal.kind,
                        key=proposal.key,
                        text=proposal.text,
                        consequence=proposal.consequence,
                        child_member_id=proposal.child_member_id,
                        days=proposal.days,
                        time_of_day=proposal.time_of_day,
                        proposed_by_member_id=proposed_by,
                        created_at=now,
                    )
                )
            )
        return added

    async def on_flow_end(
        self,
        repos: Repos,
        out: Outbox,
        member: Member,
        run: FlowRun,
        event: FlowEnded,
        now: datetime,
    ) -> None:
        """The conversation's end hook: proposals and chore check-ins."""
        if event.flow_id == PROPOSAL_FLOW and event.status != "expired":
            await self._proposals(repos, out, member, event.answers, now)
        elif event.flow_id == CHORE_FLOW:
            await self.chore_checked(repos, out, member, event.answers, now)

    async def _proposals(
        self,
        repos: Repos,
        out: Outbox,
        member: Member,
        answers: dict[str, AnswerValue],
        now: datetime,
    ) -> None:
        members = await repos.members.in_family(member.family_id)
        children = [m for m in members if m.role == "child" and m.telegram_user_id is not None]
        proposals = proposals_from_answers(self.library, answers, children, member.language)
        if not proposals:
            return
        draft = await self.editable_draft(repos, member.family_id, now)
        await self.add(repos, draft, proposals, member.id, now)
        await out.send(
            member.chat_id or 0,
            f"📜 Your ideas are now in your family's draft agreement (version {draft.number}). "
            "See it, change it and share it with everyone with /agreement.",
            member_id=member.id,
        )

    # --- everyone agrees -------------------------------------------------------------

    async def ask_everyone(
        self,
        repos: Repos,
        out: Outbox,
        version: AgreementVersion,
        family: Family,
        now: datetime,
        *,
        tell: int | None = None,
    ) -> str:
        """Put a draft to every member, item by item; return what to tell whoever asked
        (or tell chat ``tell`` first, before its own questions, and return "")."""
        if version.status != "draft" or version.asked_at is not None:
            return "That version has already gone to everyone."
        snap = await self.snapshot(repos, version, family.id or 0)
        if not snap.items:
            return "There's nothing in the draft yet."
        voters = await self.voters(repos, family.id or 0)
        if not voters:
            return "Nobody in the family has joined yet."
        version.asked_at = now
        await repos.agreements.save(version)
        said = f"Sent version {version.number} to everyone to agree ({len(voters)} people)."
        if tell is not None:
            await out.send(tell, said)
            said = ""
        for member in voters:
            intro = (
                f"📜 Your family agreement (version {version.number}) is ready for you to look "
                "at. I'll show you each part. Tap 👍 if you agree, or ✏️ to ask for a change."
                if member.role == "child"
                else f"📜 Your household agreement (version {version.number}) is ready. "
                "Everyone in the family is asked to agree each part, one at a time: tap Agree, "
                "or Ask for a change and say why. It starts when everyone has agreed."
            )
            await out.send(member.chat_id or 0, intro, member_id=member.id)
            await self._next_item(repos, out, member, snap, set())
        return said

    async def _next_item(
        self, repos: Repos, out: Outbox, member: Member, snap: Snapshot, agreed: set[int]
    ) -> bool:
        """Send the member the next item they haven't agreed yet; False if none is left."""
        total = len(snap.items)
        for number, item in enumerate(snap.items, start=1):
            if item.id in agreed:
                continue
            text = f"Part {number} of {total}\n{describe_item(item, snap.names)}"
            if item.change_note:
                who = snap.names.get(item.change_by_member_id or 0, "Someone")
                text += f"\n\n✏️ {who} asked for a change: “{item.change_note}”"
            text += "\n\nDo you agree?"
            yes, change = (
                ("👍 I agree", "✏️ I'd like a change")
                if member.role == "child"
                else ("👍 Agree", "✏️ Ask for a change")
            )
            rows = [
                [
                    OutButton(yes, agreement_data("v", item.id or 0, "a")),
                    OutButton(change, agreement_data("v", item.id or 0, "c")),
                ]
            ]
            await out.send(member.chat_id or 0, text, rows, member_id=member.id)
            return True
        return False

    async def agree(
        self,
        repos: Repos,
        out: Outbox,
        member: Member,
        item: AgreementItem,
        version: AgreementVersion,
        now: datetime,
    ) -> str | None:
        """A member agrees to one item of a draft put to everyone."""
        if version.status != "draft" or version.asked_at is None:
            return "That version has moved on - you'll be asked about the newest one 🙂"
        await repos.agreements.vote(version.id or 0, item.id or 0, member.id or 0, "agree", now)
        snap = await self.snapshot(repos, version, member.family_id)
        votes = await repos.agreements.votes(version.id or 0)
        agreed = {v.item_id for v in votes if v.member_id == member.id and v.choice == "agree"}
        if await self._next_item(repos, out, member, snap, agreed):
            return "👍"
        if not await self._maybe_activate(repos, out, version, member.family_id, now):
            await out.send(
                member.chat_id or 0,
                "Thank you, you've been through every part 🌟 "
                "I'll let you know when everyone has agreed.",
                member_id=member.id,
            )
        return "👍"

    async def ask_reason(
        self, repos: Repos, out: Outbox, member: Member, item: AgreementItem
    ) -> None:
        """Ask for the reason behind a change request (the next text the member types)."""
        member.pending_json = json.dumps({"action": "agreement_change", "item": item.id})
        await repos.members.save(member)
        text = (
            "What would you change, and why? A few words is fine. "
            "Your family will see what you write 💛"
            if member.role == "child"
            else "What would you like to change, and why? A few words is fine. "
            "Everyone in the agreement will see what you write."
        )
        await out.send(member.chat_id or 0, text, member_id=member.id)

    async def ask_idea(self, repos: Repos, out: Outbox, member: Member) -> None:
        """Ask a member for an idea to add to the draft (the next text they type)."""
        member.pending_json = json.dumps({"action": "agreement_idea"})
        await repos.members.save(member)
        await out.send(
            member.chat_id or 0,
            "What would you like to add? A job, a house rule or something for the safety plan. "
            "A few words is fine.",
            member_id=member.id,
        )

    async def pending_text(
        self, repos: Repos, out: Outbox, member: Member, text: str, now: datetime
    ) -> bool:
        """Use typed text for a change reason or an idea; False if none was asked for."""
        loaded = json.loads(member.pending_json) if member.pending_json else None
        pending: dict[str, Any] = loaded if isinstance(loaded, dict) else {}
        action = pending.get("action")
        if action not in ("agreement_change", "agreement_idea"):
            return False
        words = " ".join(text.split())[:TEXT_MAX]
        if not any(ch.isalnum() for ch in words):
            await out.send(
                member.chat_id or 0,
                "Please type a few words (or /menu to leave it).",
                member_id=member.id,
            )
            return True
        member.pending_json = None
        await repos.members.save(member)
        if action == "agreement_idea":
            draft = await self.editable_draft(repos, member.family_id, now)
            await self.add(repos, draft, [Proposal("rule", words)], member.id, now)
            await out.send(
                member.chat_id or 0,
                f"💡 Thank you! Your idea is in the draft (version {draft.number}) for everyone "
                "to talk about.",
                member_id=member.id,
            )
            await self._tell_editors(
                repos,
                out,
                member.family_id,
                member,
                f"💡 {member.display_name} added an idea to the draft agreement: “{words}”.",
            )
            return True
        item = await repos.agreements.item(int(pending.get("item") or 0))
        version = await repos.agreements.version(item.version_id) if item else None
        if item is None or version is None:
            return True
        if await self.family_of(repos, version) != member.family_id:
            return True  # checked when the button was pressed; the family cannot change
        await self.request_change(repos, out, member, item, version, words, now)
        return True

    async def request_change(
        self,
        repos: Repos,
        out: Outbox,
        member: Member,
        item: AgreementItem,
        version: AgreementVersion,
        reason: str,
        now: datetime,
    ) -> None:
        """Open a renegotiation round: a new draft with the change noted; tell everyone."""
        current = version.status == "active" or (
            version.status == "draft" and version.asked_at is not None
        )
        if not current:
            await out.send(
                member.chat_id or 0,
                "That version has moved on, so nothing changed. /agreement shows the latest.",
                member_id=member.id,
            )
            return
        await repos.agreements.vote(
            version.id or 0, item.id or 0, member.id or 0, "change", now, reason=reason
        )
        draft = await self.editable_draft(
            repos, member.family_id, now, change_by=member.id, reason=reason
        )
        for copy in await repos.agreements.items(draft.id or 0):
            if copy.root_id == item.root_id:
                copy.change_note, copy.change_by_member_id = reason, member.id
                await repos.agreements.save(copy)
        thanks = (
            "Thank you for saying 💛 Everyone will see what you asked. "
            "When the agreement has been talked over, you'll be asked again."
            if member.role == "child"
            else "Thank you. Everyone will see what you asked, and the agreement goes back to a "
            "draft. You'll be asked again once it has been changed."
        )
        await out.send(member.chat_id or 0, thanks, member_id=member.id)
        note = (
            f"✏️ {member.display_name} asked for a change to “{item.text}”:\n“{reason}”\n\n"
            f"The agreement is a draft again (version {draft.number})."
        )
        await self._tell_everyone(repos, out, member.family_id, member, note)

    async def _tell_everyone(
        self, repos: Repos, out: Outbox, family_id: int, author: Member, note: str
    ) -> None:
        for other in await self.voters(repos, family_id):
            if other.id == author.id:
                continue
            extra = (
                " Change it with /agreement, then ask everyone again."
                if other.role == "parent"
                else " You'll be asked again when it's ready."
            )
            await out.send(other.chat_id or 0, note + extra, member_id=other.id)
        await self._tell_practitioner(repos, out, family_id, note)

    async def _tell_editors(
        self, repos: Repos, out: Outbox, family_id: int, author: Member, note: str
    ) -> None:
        for other in await self.voters(repos, family_id):
            if other.id != author.id and other.role == "parent":
                await out.send(other.chat_id or 0, note, member_id=other.id)

    async def _tell_practitioner(
        self, repos: Repos, out: Outbox, family_id: int, note: str
    ) -> None:
        family = await repos.families.by_id(family_id)
        practitioner = await repos.practitioners.by_id(family.practitioner_id) if family else None
        if family is None or practitioner is None:
            return
        chat = practitioner.chat_id or practitioner.telegram_user_id
        await out.send(chat, f"{family.name} family: {note}\n(/agreement {family.name})")

    async def _maybe_activate(
        self, repos: Repos, out: Outbox, version: AgreementVersion, family_id: int, now: datetime
    ) -> bool:
        items = await repos.agreements.items(version.id or 0)
        votes = await repos.agreements.votes(version.id or 0)
        voters = await self.voters(repos, family_id, version.asked_at)
        agreed = {(v.item_id, v.member_id) for v in votes if v.choice == "agree"}
        if not voters or any((i.id, m.id) not in agreed for i in items for m in voters):
            return False
        await self.activate(repos, out, version, family_id, now)
        return True

    async def activate(
        self, repos: Repos, out: Outbox, version: AgreementVersion, family_id: int, now: datetime
    ) -> None:
        """Make a version the active one: the previous is superseded, chores are scheduled."""
        agreement_versions = await repos.agreements.versions(version.agreement_id)
        for old in agreement_versions:
            if old.status == "active" and old.id != version.id:
                old.status, old.superseded_at = "superseded", now
                await repos.agreements.save(old)
                for item in await repos.agreements.items(old.id or 0):
                    await self._unschedule(repos, item, now)
        version.status, version.activated_at = "active", now
        await repos.agreements.save(version)
        snap = await self.snapshot(repos, version, family_id)
        chores = [i for i in snap.items if i.kind == "chore" and i.child_member_id]
        for child_id in {i.child_member_id or 0 for i in chores}:
            for schedule in await repos.schedules.for_member(child_id):
                replaced = schedule.created_by in ("default", "agreement")
                if schedule.flow_id == CHORE_FLOW and replaced:
                    await self.reminders.remove(repos, schedule, now)
        for item in chores:
            child = await repos.members.by_id(item.child_member_id or 0)
            if child is None or child.telegram_user_id is None:
                continue  # erased, or not joined: nobody to remind
            rule = Rule.parse(item.days, item.time_of_day or DEFAULT_CHORE_TIME)
            schedule = await self.reminders.add(repos, child, CHORE_FLOW, rule, now, "agreement")
            item.schedule_id = schedule.id
            await repos.agreements.save(item)
        text = render_text(snap)
        for member in await self.voters(repos, family_id):
            head = (
                "🎉 Everyone agreed! Your family agreement starts now."
                if member.role == "child"
                else f"🎉 Everyone has agreed. Your household agreement (version "
                f"{version.number}) starts now."
            )
            mine = [i for i in chores if i.child_member_id == member.id]
            tail = "".join(f"\n⏰ I'll remind you about “{i.text}” {when_text(i)}." for i in mine)
            await out.send(member.chat_id or 0, f"{head}\n\n{text}{tail}", member_id=member.id)
        await self._tell_practitioner(
            repos, out, family_id, f"✅ everyone agreed version {version.number}; it is active now."
        )
        log.info("agreement version %s active (family %s)", version.id, family_id)

    async def _unschedule(self, repos: Repos, item: AgreementItem, now: datetime) -> None:
        if item.schedule_id is None:
            return
        schedule = await repos.schedules.by_id(item.schedule_id)
        if schedule is not None:
            await self.reminders.remove(repos, schedule, now)
        item.schedule_id = None
        await repos.agreements.save(item)

    # --- chores ----------------------------------------------------------------------

    async def chore_checked(
        self,
        repos: Repos,
        out: Outbox,
        child: Member,
        answers: dict[str, AnswerValue],
        now: datetime,
    ) -> ChoreLog | None:
        """A child finished a chore check-in: log it against the agreed chore; on "done",
        say the streak kindly and ask the parents to confirm."""
        did = answers.get("did_it")
        status = DID_IT.get(did) if isinstance(did, str) else None
        if child.role != "child" or status is None:
            return None
        active = (await repos.agreements.active_versions([child.family_id])).get(child.family_id)
        if active is None:
            return None
        items = await repos.agreements.items(active.id or 0)
        chores = [i for i in items if i.kind == "chore" and i.child_member_id == child.id]
        if not chores:
            return None
        which = answers.get("which_chore")
        named = which if isinstance(which, str) else None
        item = await self._which(repos, child, chores, named, now)
        today = now.astimezone(zone(child.timezone)).date()
        entry = await repos.chore_logs.record(
            child.family_id,
            child.id or 0,
            item.id or 0,
            item.root_id or item.id or 0,
            today.isoformat(),
            status,
            now,
        )
        if status != "done":
            return entry
        count, before = await self.streak_of(repos, item, today)
        await out.send(
            child.chat_id or 0,
            f"🧹 {item.text}: {streak_words(count, before, item.days)}",
            member_id=child.id,
        )
        for parent in await self.voters(repos, child.family_id):
            if parent.role != "parent":
                continue
            rows = [
                [
                    OutButton("✅ Yes, it's done", agreement_data("cc", entry.id or 0, "y")),
                    OutButton("🤏 Not quite", agreement_data("cc", entry.id or 0, "n")),
                ]
            ]
            await out.send(
                parent.chat_id or 0,
                f"🧹 {child.display_name} says “{item.text}” is done today. Is it?",
                rows,
                member_id=parent.id,
            )
        return entry

    async def _which(
        self,
        repos: Repos,
        child: Member,
        chores: list[AgreementItem],
        which: str | None,
        now: datetime,
    ) -> AgreementItem:
        """The agreed chore a check-in is about: the one whose reminder was started today,
        else the one matching the chore named, else the first."""
        by_schedule = {c.schedule_id: c for c in chores if c.schedule_id is not None}
        recent = await repos.reminders.for_member(child.id or 0, since=now - timedelta(days=1))
        for reminder in reversed(recent):
            if reminder.status == "started" and reminder.schedule_id in by_schedule:
                return by_schedule[reminder.schedule_id]
        keys = CHECKIN_KEYS.get(which or "", ())
        return next((c for c in chores if c.key in keys), chores[0])

    async def streak_of(self, repos: Repos, item: AgreementItem, today: date) -> tuple[int, bool]:
        """(chore days in a row done up to today, done ever before that run)."""
        logs = await repos.chore_logs.for_chores([item.root_id or item.id or 0])
        done = {date.fromisoformat(x.day) for x in logs if counts_done(x)}
        return streak(item.days, done, today)

    async def confirm(
        self,
        repos: Repos,
        out: Outbox,
        parent: Member,
        entry: ChoreLog,
        answer: str,
        now: datetime,
    ) -> str | None:
        """A parent confirms (or not quite) a child's "done"."""
        if entry.confirmed is not None:
            return "Already checked - thank you 🙂"
        entry.confirmed = "yes" if answer == "y" else "not_quite"
        entry.confirmed_by_member_id, entry.confirmed_at = parent.id, now
        await repos.chore_logs.save(entry)
        item = await repos.agreements.item(entry.item_id)
        child = await repos.members.by_id(entry.member_id)
        if item is None or child is None:
            return None
        if entry.confirmed == "yes":
            count, before = await self.streak_of(repos, item, date.fromisoformat(entry.day))
            await out.send(
                parent.chat_id or 0,
                f"Thank you 🌟 Noticing {child.display_name}'s effort makes a big difference.",
                member_id=parent.id,
            )
            child_text = (
                f"🎉 {parent.display_name} says well done for “{item.text}”! "
                f"{streak_words(count, before, item.days)}"
            )
        else:
            await out.send(
                parent.chat_id or 0,
                "Thank you 💛 Nearly there is still progress. "
                "Remember to say well done when it's finished.",
                member_id=parent.id,
            )
            child_text = (
                f"💛 {parent.display_name} says you're nearly there with “{item.text}”. "
                "Have another go when you can. You're doing well."
            )
        if child.chat_id is not None and child.active:
            await out.send(child.chat_id, child_text, member_id=child.id)
        return None


def counts_done(entry: ChoreLog) -> bool:
    """A check-in counts as done when the child said so and no parent said "not quite"."""
    return entry.status == "done" and entry.confirmed != "not_quite"


# --- showing an agreement ----------------------------------------------------------------


def render_text(snap: Snapshot) -> str:
    """The version as a clear message: its parts by kind, numbered as the commands use."""
    version = snap.version
    lines = [f"📜 Household agreement, version {version.number}"]
    if version.activated_at is not None:
        lines[0] += f" (agreed {version.activated_at:%d %b %Y})"
    numbered = list(enumerate(snap.items, start=1))
    for kind in ("chore", "rule", "safety"):
        parts = [(n, i) for n, i in numbered if i.kind == kind]
        if not parts:
            continue
        lines.append(f"\n{KIND_ICONS[kind]} {KIND_TITLES[kind]}")
        for number, item in parts:
            text = describe_item(item, snap.names).split(" ", 1)[1]
            lines.append(f"{number}. {text}")
            if item.change_note:
                who = snap.names.get(item.change_by_member_id or 0, "Someone")
                lines.append(f"   ✏️ {who} asked for a change: “{item.change_note}”")
    if not snap.items:
        lines.append("\nNothing in it yet.")
    return "\n".join(lines)


def render_html(
    snap: Snapshot, family_name: str, voters: dict[int, list[tuple[str, datetime]]]
) -> str:
    """A printable page: every part, and who agreed it when."""
    from html import escape as e

    version = snap.version
    rows = []
    for number, item in enumerate(snap.items, start=1):
        agreed = ", ".join(
            f"{e(name)} ({when:%d %b %Y %H:%M})" for name, when in voters.get(item.id or 0, [])
        )
        detail = e(describe_item(item, snap.names).split(" ", 1)[1]).replace("\n", "<br>")
        rows.append(
            f"<tr><td>{number}</td><td>{KIND_ICONS.get(item.kind, '')} "
            f"{e(KIND_TITLES.get(item.kind, item.kind))}</td><td>{detail}</td>"
            f"<td>{agreed or '-'}</td></tr>"
        )
    since = f"Agreed on {version.activated_at:%d %B %Y}." if version.activated_at else "Draft."
    return (
        "<!doctype html><html lang='en'><head><meta charset='utf-8'>"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>"
        f"<title>{e(family_name)} household agreement v{version.number}</title>"
        "<style>body{font-family:sans-serif;max-width:50em;margin:1em auto;padding:0 1em}"
        "table{border-collapse:collapse;width:100%}td,th{border:1px solid #999;padding:.4em;"
        "vertical-align:top;text-align:left}@media print{body{margin:0}}</style></head><body>"
        f"<h1>{e(family_name)} family: our household agreement</h1>"
        f"<p>Version {version.number}. {since} We made it together and we can change it "
        "together.</p>"
        "<table><tr><th>#</th><th>Part</th><th>What we agreed</th><th>Agreed by</th></tr>"
        + "".join(rows)
        + "</table></body></html>"
    )


# --- the weekly digest ---------------------------------------------------------------------


async def chore_lines(
    repos: Repos, family_ids: Sequence[int], start: datetime, end: datetime
) -> dict[int, list[tuple[str, ChoreLine]]]:
    """Per family: (child's name, adherence of one agreed chore) over [start, end)."""
    pairs = await repos.agreements.versions_for_families(family_ids)
    spans: dict[int, tuple[int, datetime, datetime]] = {}
    for family_id, version in pairs:
        began = version.activated_at or end
        stopped = version.superseded_at or end
        if began < end and stopped > start:
            spans[version.id or 0] = (family_id, max(began, start), min(stopped, end))
    items = [
        i
        for i in await repos.agreements.items_of_versions(spans)
        if i.kind == "chore" and i.child_member_id
    ]
    if not items:
        return {}
    children = await repos.members.by_ids({i.child_member_id or 0 for i in items})
    due: dict[int, set[date]] = defaultdict(set)
    latest: dict[int, tuple[int, AgreementItem]] = {}
    for item in items:
        family_id, began, stopped = spans[item.version_id]
        child = children.get(item.child_member_id or 0)
        tz = zone(child.timezone if child else "UTC")
        rule = Rule.parse(item.days, item.time_of_day or DEFAULT_CHORE_TIME)
        when = next_occurrence(
            rule, child.timezone if child else "UTC", began - timedelta(seconds=1)
        )
        key = item.root_id or item.id or 0
        while when < stopped:
            due[key].add(when.astimezone(tz).date())
            when = next_occurrence(rule, child.timezone if child else "UTC", when)
        latest[key] = (family_id, item)
    logs = await repos.chore_logs.for_chores(latest)
    out: dict[int, list[tuple[str, ChoreLine]]] = defaultdict(list)
    for key, (family_id, item) in latest.items():
        child = children.get(item.child_member_id or 0)
        tz = zone(child.timezone if child else "UTC")
        first, last = start.astimezone(tz).date(), end.astimezone(tz).date()
        mine = [
            x for x in logs if x.chore_key == key and first.isoformat() <= x.day <= last.isoformat()
        ]
        done_days = {x.day for x in mine if counts_done(x)}
        line = ChoreLine(
            text=item.text,
            when=when_text(item),
            due=len(due[key]),
            done=len(done_days),
            confirmed=sum(1 for x in mine if x.confirmed == "yes"),
        )
        out[family_id].append((child.display_name if child else "someone", line))
    return out


async def with_chore_lines(
    repos: Repos, report: DigestReport, start: datetime, end: datetime
) -> DigestReport:
    """The report with each child's agreed chores (done vs due) added to its Chores."""
    lines = await chore_lines(repos, [f.family_id for f in report.families], start, end)
    if not lines:
        return report
    families = []
    for family in report.families:
        extra = lines.get(family.family_id)
        if not extra:
            families.append(family)
            continue
        chores: dict[str, Chores] = {c.name: c for c in family.chores}
        for name, line in extra:
            found = chores.get(name) or Chores(name, 0, 0, 0, 0)
            chores[name] = replace(found, items=(*found.items, line))
        families.append(replace(family, chores=tuple(chores.values())))
    return replace(report, families=tuple(families))


def agreement_export_rows(
    items: Sequence[AgreementItem], votes: Sequence[Any], logs: Sequence[ChoreLog]
) -> dict[str, Any]:
    """A member's part in agreements, for /mydata (their own words and choices only)."""
    return {
        "ideas_proposed": [
            {
                "kind": i.kind,
                "text": i.text,
                "consequence": i.consequence,
                "at": i.created_at.isoformat(),
            }
            for i in items
        ],
        "answers": [
            {"choice": v.choice, "reason": v.reason, "at": v.at.isoformat()} for v in votes
        ],
        "chore_check_ins": [
            {"day": x.day, "status": x.status, "checked_by_a_grown_up": x.confirmed} for x in logs
        ],
    }


def agreement_html(part: dict[str, Any]) -> str:
    """The /mydata page's section on the household agreement ('' if the person has no part)."""
    from html import escape as e

    ideas = part.get("ideas_proposed") or []
    answers = part.get("answers") or []
    chores = part.get("chore_check_ins") or []
    if not (ideas or answers or chores):
        return ""
    out = ["<h2>Household agreement</h2>"]
    if ideas:
        out.append(
            "<h3>Ideas you suggested</h3><ul>"
            + "".join(
                f"<li>{e(str(i['text']))}"
                + (f" (if broken: {e(str(i['consequence']))})" if i.get("consequence") else "")
                + "</li>"
                for i in ideas
            )
            + "</ul>"
        )
    if answers:
        words = {"agree": "Agreed", "change": "Asked for a change"}
        out.append(
            "<h3>Your answers</h3><ul>"
            + "".join(
                f"<li>{e(words.get(str(a['choice']), str(a['choice'])))} ({e(str(a['at'])[:16])})"
                + (f": {e(str(a['reason']))}" if a.get("reason") else "")
                + "</li>"
                for a in answers
            )
            + "</ul>"
        )
    if chores:
        out.append(
            "<h3>Your chore check-ins</h3><ul>"
            + "".join(f"<li>{e(str(c['day']))}: {e(str(c['status']))}</li>" for c in chores)
            + "</ul>"
        )
    return "".join(out)
