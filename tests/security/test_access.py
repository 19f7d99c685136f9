"""Access control, as one table: every command and every kind of button, for every role.

Roles: a stranger, a parent (Sam) and a child (Mia) of the Green family, the Green family's
practitioner (Alex), and another practitioner (Bea, who has the Red family). Each case runs
one update through the real router (the code every Telegram update goes through after
conversion; see tests/security/test_bad_input.py for the transport itself) on a fresh copy of
a seeded database (tests/security/world.py), and checks:

- allowed or refused, as designed: what the person is told (a reply or the button's notice);
- a refusal changes no record (families, invites, activities, answers, schedules, reminders,
  alerts, digests, people), and a refusal of someone else's object (forged button data naming
  another family's family, member, schedule, reminder, alert or activity) is audit-logged as
  ``refused_<what>`` by that person, while nothing else is;
- nobody is shown words they may not see, in anything queued for any chat (messages, buttons,
  files, digests): children never see parents' words; parents never see a child's words
  (there is no view of a child's answers for parents at all: shared ones go to the
  practitioner only); a practitioner sees their own families' words but never a child's
  private answer; another practitioner sees none of them; a stranger sees nothing;
- group chats and channels are refused politely and left, whoever speaks there.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from rpbot.clock import FakeClock
from rpbot.services import digest_desk, enrolment, family_desk, practitioner_desk, privacy_desk
from rpbot.services import safeguarding as safeguarding_service
from rpbot.services.incoming import Incoming
from rpbot.services.menus import commands_for
from rpbot.services.router import GROUP_TEXT
from rpbot.storage.db import Database
from rpbot.storage.tables import OutboxMessage
from tests.security.world import (
    ALEX,
    BEA,
    CASE_TIME,
    CHANNEL_CHAT,
    GROUP_CHAT,
    MARKERS,
    MIA,
    SAM,
    STRANGER,
    World,
    audit_after,
    build,
    command,
    pressed,
    router_for,
    shown,
    state,
    typed,
)

pytestmark = pytest.mark.asyncio

U, P, C, A, B = "stranger", "parent", "child", "practitioner", "other_practitioner"
ROLES = (U, P, C, A, B)
USERS = {U: STRANGER, P: SAM, C: MIA, A: ALEX, B: BEA}
#: Whose words each role may be shown (markers from tests/security/world.py).
MAY_SEE = {
    U: set(),
    P: {"sam"},
    C: {"shared", "private"},
    A: {"sam", "shared"},
    B: {"pat"},
}

UNKNOWN = enrolment.UNKNOWN_TEXT
BAD_CODE = enrolment.BAD_CODE_TEXT
NOT_AVAILABLE = family_desk.NOT_AVAILABLE
MOVED_ON = family_desk.MOVED_ON
MEMBER_UNKNOWN = family_desk.UNKNOWN_COMMAND
PRACTITIONER_UNKNOWN = "I don't know that command."
EXPIRED = "That button has expired."
NOT_YOUR_FAMILY = practitioner_desk.REFUSED
NOT_YOUR_ALERT = safeguarding_service.REFUSED
REMINDER_GONE = "That reminder has already been answered."
SCHEDULE_GONE = "That reminder no longer exists."


# --- what is expected --------------------------------------------------------------------


@dataclass(frozen=True)
class Expect:
    """Allowed (``ok``) or refused, what the person is told, and what may be audited."""

    ok: bool
    says: str = ""  # in a reply to the person or the button's notice ("" = anything)
    flow: str | None = None  # allowed: this activity is now open for them
    audit: str | None = None  # refused: exactly this refused_* entry, by them
    left: bool = False  # a group or channel: refused and left


def ok(says: str = "", *, flow: str | None = None) -> Expect:
    return Expect(True, says, flow)


def flow(flow_id: str) -> Expect:
    return Expect(True, flow=flow_id)


def no(says: str, audit: str | None = None) -> Expect:
    return Expect(False, says, audit=audit)


STRANGER_REFUSED = no(UNKNOWN)
LEFT = Expect(False, GROUP_TEXT, left=True)
MEMBER_CMD_REFUSED = no(MEMBER_UNKNOWN)
PRACTITIONER_CMD_REFUSED = no(PRACTITIONER_UNKNOWN)
MEMBER_BUTTON_REFUSED = no(NOT_AVAILABLE)
PRACTITIONER_BUTTON_REFUSED = no(EXPIRED)


def row(
    action: str,
    *,
    stranger: Expect = STRANGER_REFUSED,
    parent: Expect,
    child: Expect,
    practitioner: Expect,
    other: Expect,
) -> tuple[str, dict[str, Expect]]:
    return action, {U: stranger, P: parent, C: child, A: practitioner, B: other}


def member_only(action: str, parent: Expect, child: Expect) -> tuple[str, dict[str, Expect]]:
    """A command only family members have; practitioners are told it is unknown."""
    return row(
        action,
        parent=parent,
        child=child,
        practitioner=PRACTITIONER_CMD_REFUSED,
        other=PRACTITIONER_CMD_REFUSED,
    )


def practitioner_only(
    action: str, practitioner: Expect, other: Expect
) -> tuple[str, dict[str, Expect]]:
    """A command only practitioners have; parents and children get their menu."""
    return row(
        action,
        parent=MEMBER_CMD_REFUSED,
        child=MEMBER_CMD_REFUSED,
        practitioner=practitioner,
        other=other,
    )


def member_button(action: str, parent: Expect, child: Expect) -> tuple[str, dict[str, Expect]]:
    """A family member's button (a1, m1, r1, s1, x1): practitioners' desk does not know it."""
    return row(
        action,
        parent=parent,
        child=child,
        practitioner=PRACTITIONER_BUTTON_REFUSED,
        other=PRACTITIONER_BUTTON_REFUSED,
    )


def practitioner_button(
    action: str, practitioner: Expect, other: Expect
) -> tuple[str, dict[str, Expect]]:
    """A practitioner's tool button (p1): parents and children are refused without a look-up."""
    return row(
        action,
        parent=MEMBER_BUTTON_REFUSED,
        child=MEMBER_BUTTON_REFUSED,
        practitioner=practitioner,
        other=other,
    )


def everyone(action: str, expect: Expect) -> tuple[str, dict[str, Expect]]:
    return row(
        action, stranger=expect, parent=expect, child=expect, practitioner=expect, other=expect
    )


ALEX_HELLO, BEA_HELLO = ok("Hello Alex"), ok("Hello Bea")
MEMBER_MENU = {P: ok("What would you like to do?"), C: ok("What would you like to do? 🙂")}
ALEX_FAMILY, BEA_FAMILY = ok("Green family (England)"), ok("Red family (Scotland)")

# Commands: "/name args". Buttons: "[callback data]" with {placeholders} from the world's ids.
# "group ..." and "channel ..." are said in a group chat or posted in a channel.
TABLE: list[tuple[str, dict[str, Expect]]] = [
    # --- commands everyone has -----------------------------------------------------------
    row(
        "/start",
        parent=MEMBER_MENU[P],
        child=MEMBER_MENU[C],
        practitioner=ALEX_HELLO,
        other=BEA_HELLO,
    ),
    row(
        "/start not-a-real-code",
        stranger=no(BAD_CODE),
        parent=MEMBER_MENU[P],
        child=MEMBER_MENU[C],
        practitioner=ALEX_HELLO,
        other=BEA_HELLO,
    ),
    row(
        "/menu",
        parent=MEMBER_MENU[P],
        child=MEMBER_MENU[C],
        practitioner=ALEX_HELLO,
        other=BEA_HELLO,
    ),
    row(  # in the middle of an activity, the activity's own help
        "/help",
        parent=ok("/stop"),
        child=ok("/stop"),
        practitioner=ok("Your tools"),
        other=ok("Your tools"),
    ),
    row(
        "/mydata",
        parent=ok(privacy_desk.MYDATA_TEXT["parent"]),
        child=ok(privacy_desk.MYDATA_TEXT["child"]),
        practitioner=ok(privacy_desk.MYDATA_TEXT["practitioner"]),
        other=ok(privacy_desk.MYDATA_TEXT["practitioner"]),
    ),
    row(
        "/forget",
        parent=ok("Do you want me to delete your data?"),
        child=ok("Do you want me to delete what you've told me?"),
        practitioner=no(privacy_desk.PRACTITIONER_FORGET),
        other=no(privacy_desk.PRACTITIONER_FORGET),
    ),
    row(
        "/frobnicate",
        parent=MEMBER_CMD_REFUSED,
        child=MEMBER_CMD_REFUSED,
        practitioner=PRACTITIONER_CMD_REFUSED,
        other=PRACTITIONER_CMD_REFUSED,
    ),
    row(
        "hello there",
        parent=ok(),  # typed words are welcome as an answer
        child=ok("Tap a face, or type a number from 1 to 5."),
        practitioner=ok("Your tools"),
        other=ok("Your tools"),
    ),
    # --- family members' commands --------------------------------------------------------
    member_only("/diary", flow("day_in_the_life"), MEMBER_CMD_REFUSED),
    member_only("/checkin", flow("three_questions"), MEMBER_CMD_REFUSED),
    member_only("/reflect", flow("incident_reflection"), flow("child_reflection")),
    member_only("/boundaries", flow("boundaries_and_consequences"), MEMBER_CMD_REFUSED),
    member_only("/learn", ok("Parenting styles"), MEMBER_CMD_REFUSED),
    member_only("/law", flow("physical_punishment_law"), MEMBER_CMD_REFUSED),
    member_only("/chores", flow("household_agreement"), flow("chore_checkin")),
    member_only("/houses", MEMBER_CMD_REFUSED, flow("three_houses")),
    member_only("/feelings", MEMBER_CMD_REFUSED, flow("feelings_checkin")),
    member_only("/reminders", ok("Your reminders:"), ok("Your reminders:")),
    member_only("/stop", ok("we'll stop here"), ok("we'll stop here")),
    member_only("/skip", ok(), ok()),
    member_only("/back", ok("first question"), ok("first question")),
    # --- practitioners' commands ---------------------------------------------------------
    practitioner_only("/families", ok("• Green (England)"), ok("• Red (Scotland)")),
    practitioner_only("/family", ok("Which family?"), ok("Which family?")),
    practitioner_only("/family Green", ALEX_FAMILY, no("Which family?")),
    practitioner_only("/family Red", no("Which family?"), BEA_FAMILY),
    practitioner_only(
        "/newfamily", ok("What is the family's name?"), ok("What is the family's name?")
    ),
    practitioner_only(
        "/invite", ok("Invite someone to which family?"), ok("Invite someone to which family?")
    ),
    practitioner_only(
        "/schedule", ok("Reminders for which family?"), ok("Reminders for which family?")
    ),
    practitioner_only("/digest", ok(digest_desk.WORKING), ok(digest_desk.WORKING)),
    practitioner_only("/digest Green", ok(digest_desk.WORKING), no("I couldn't find that family")),
    practitioner_only("/digest Red", no("I couldn't find that family"), ok(digest_desk.WORKING)),
    practitioner_only(
        "/digestsettings", ok("Your weekly digest comes"), ok("Your weekly digest comes")
    ),
    # --- programme commands: circles, household agreements, programme plans ---------------
    row(
        "/circle",
        parent=ok(),
        child=MEMBER_CMD_REFUSED,
        practitioner=ok("with which family?"),
        other=ok("with which family?"),
    ),
    row(
        "/agreement",
        parent=ok(),
        child=ok(),
        practitioner=ok("Whose household agreement?"),
        other=ok("Whose household agreement?"),
    ),
    practitioner_only("/plan", ok("Whose programme plan?"), ok("Whose programme plan?")),
    practitioner_only("/plan Green", ok("Green family"), no("Whose programme plan?")),
    practitioner_only("/plan Red", no("Whose programme plan?"), ok("Red family")),
    # --- a1: answer buttons --------------------------------------------------------------
    member_button("[a1:{sam_run}:{sam_prompt}:calm]", ok(), no(MOVED_ON, "refused_run")),
    member_button("[a1:{mia_run}:{mia_prompt}:4]", no(MOVED_ON, "refused_run"), ok()),
    member_button(
        "[a1:{pat_run}:{pat_prompt}:calm]", no(MOVED_ON, "refused_run"), no(MOVED_ON, "refused_run")
    ),
    member_button("[a1:999999:1:calm]", no(MOVED_ON), no(MOVED_ON)),
    # --- m1: menu buttons, including the other role's flows ------------------------------
    member_button("[m1:day_in_the_life]", flow("day_in_the_life"), MEMBER_BUTTON_REFUSED),
    member_button("[m1:parenting_styles]", flow("parenting_styles"), MEMBER_BUTTON_REFUSED),
    member_button("[m1:chore_confirm]", flow("chore_confirm"), MEMBER_BUTTON_REFUSED),
    member_button("[m1:learn]", ok("Parenting styles"), MEMBER_BUTTON_REFUSED),
    member_button("[m1:three_houses]", MEMBER_BUTTON_REFUSED, flow("three_houses")),
    member_button("[m1:feelings_checkin]", MEMBER_BUTTON_REFUSED, flow("feelings_checkin")),
    member_button("[m1:no_such_flow]", MEMBER_BUTTON_REFUSED, MEMBER_BUTTON_REFUSED),
    # --- r1: reminders -------------------------------------------------------------------
    member_button(
        "[r1:{sam_reminder}:later]",
        ok("I'll remind you again in an hour"),
        no(REMINDER_GONE, "refused_reminder"),
    ),
    member_button(
        "[r1:{mia_reminder}:start]", no(REMINDER_GONE, "refused_reminder"), flow("chore_checkin")
    ),
    member_button(
        "[r1:{pat_reminder}:skip]",
        no(REMINDER_GONE, "refused_reminder"),
        no(REMINDER_GONE, "refused_reminder"),
    ),
    # --- s1: people's own reminder settings ---------------------------------------------
    member_button(
        "[s1:{sam_sched}:pause]", ok("Paused for a week"), no(SCHEDULE_GONE, "refused_schedule")
    ),
    member_button(
        "[s1:{mia_sched}:time]",
        no(SCHEDULE_GONE, "refused_schedule"),
        ok("What time would suit you?"),
    ),
    member_button(
        "[s1:{pat_sched}:pause]",
        no(SCHEDULE_GONE, "refused_schedule"),
        no(SCHEDULE_GONE, "refused_schedule"),
    ),
    # --- x1: privacy ---------------------------------------------------------------------
    member_button("[x1:keep]", ok("nothing has been deleted"), ok("nothing has been deleted")),
    member_button("[x1:forget:{now}]", ok("Done"), ok("Done")),
    member_button("[x1:forget:{hours_ago}]", no(privacy_desk.TOO_OLD), no(privacy_desk.TOO_OLD)),
    # --- p1: practitioners' tools --------------------------------------------------------
    practitioner_button("[p1:fam:{green}]", ALEX_FAMILY, no(NOT_YOUR_FAMILY, "refused_family")),
    practitioner_button("[p1:fam:{red}]", no(NOT_YOUR_FAMILY, "refused_family"), BEA_FAMILY),
    practitioner_button(
        "[p1:inv:{green}]",
        ok("Invite a parent or a child to the Green family?"),
        no(NOT_YOUR_FAMILY, "refused_family"),
    ),
    practitioner_button(
        "[p1:invrole:{red}:child]",
        no(NOT_YOUR_FAMILY, "refused_family"),
        ok("What is the child's first name?"),
    ),
    practitioner_button("[p1:nation:england]", no(EXPIRED), no(EXPIRED)),
    practitioner_button(
        "[p1:sch:{green}]", ok("Whose reminders?"), no(NOT_YOUR_FAMILY, "refused_schedule")
    ),
    practitioner_button(
        "[p1:schm:{sam}]", ok("Reminders for Sam"), no(NOT_YOUR_FAMILY, "refused_schedule")
    ),
    practitioner_button(
        "[p1:scha:{mia}]",
        ok("Which activity should Mia be reminded about?"),
        no(NOT_YOUR_FAMILY, "refused_schedule"),
    ),
    practitioner_button(
        "[p1:schf:{pat}:0]", no(NOT_YOUR_FAMILY, "refused_schedule"), ok("Which days?")
    ),
    practitioner_button(
        "[p1:schd:{sam}:daily]", no(EXPIRED), no(NOT_YOUR_FAMILY, "refused_schedule")
    ),
    practitioner_button(
        "[p1:schp:{sam_sched}]", ok("Paused for a week"), no(NOT_YOUR_FAMILY, "refused_schedule")
    ),
    practitioner_button(
        "[p1:schu:{mia_sched}]", ok("Resumed"), no(NOT_YOUR_FAMILY, "refused_schedule")
    ),
    practitioner_button(
        "[p1:schr:{pat_sched}]", no(NOT_YOUR_FAMILY, "refused_schedule"), ok("Removed")
    ),
    practitioner_button("[p1:dg:all]", ok(digest_desk.WORKING), ok(digest_desk.WORKING)),
    practitioner_button(
        "[p1:dg:{green}]", ok(digest_desk.WORKING), no(NOT_YOUR_FAMILY, "refused_digest")
    ),
    practitioner_button(
        "[p1:dg:{red}]", no(NOT_YOUR_FAMILY, "refused_digest"), ok(digest_desk.WORKING)
    ),
    practitioner_button("[p1:dgd:fri]", ok("Fridays"), ok("Fridays")),
    practitioner_button("[p1:dgt:0700]", ok("07:00"), ok("07:00")),
    practitioner_button("[p1:dgtype]", ok("What time?"), ok("What time?")),
    practitioner_button(
        "[p1:sga:{green_alert}]", ok("Recorded ✅"), no(NOT_YOUR_ALERT, "refused_alert")
    ),
    practitioner_button(
        "[p1:sgc:{red_alert}]", no(NOT_YOUR_ALERT, "refused_alert"), ok("Recorded ✅")
    ),
    # --- garbage -------------------------------------------------------------------------
    member_button("[garbage]", MEMBER_BUTTON_REFUSED, MEMBER_BUTTON_REFUSED),
    member_button("[]", MEMBER_BUTTON_REFUSED, MEMBER_BUTTON_REFUSED),
    # --- groups and channels: refused and left, whoever speaks ---------------------------
    everyone("group hello bot", LEFT),
    everyone("group /start", LEFT),
    everyone("group [m1:day_in_the_life]", LEFT),
    everyone("supergroup /family Green", LEFT),
    row("channel a post", parent=LEFT, child=LEFT, practitioner=LEFT, other=LEFT, stranger=LEFT),
]

CASES = [
    pytest.param(action, role, expects[role], id=f"{action} | {role}")
    for action, expects in TABLE
    for role in ROLES
]


# --- running one case --------------------------------------------------------------------


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> World:
    return build(tmp_path_factory.mktemp("access"))


def incoming_for(action: str, role: str, ids: dict[str, int]) -> Incoming:
    """The update ``role`` sends for a table action."""
    user = USERS[role]
    now = int(CASE_TIME.timestamp())
    values = {**ids, "now": now, "hours_ago": now - 7200}
    place, _, what = action.partition(" ")
    if place in ("group", "supergroup", "channel"):
        chat, chat_type = (CHANNEL_CHAT, "channel") if place == "channel" else (GROUP_CHAT, place)
        if place == "channel":  # a channel post has no person behind it (see convert.py)
            return Incoming(
                user_id=chat, chat_id=chat, chat_type=chat_type, kind="unsupported", detail="x"
            )
    else:
        chat, chat_type, what = user, "private", action
    if what.startswith("["):
        return pressed(user, what[1:-1].format(**values), chat, chat_type)
    if what.startswith("/"):
        return command(user, what, chat, chat_type)
    return typed(user, what, chat, chat_type)


async def test_the_table_covers_every_command_and_button_kind() -> None:
    actions = [action for action, _ in TABLE]
    commands = {a.split()[0].lstrip("/") for a in actions if a.startswith("/")}
    offered = {c for role in ("parent", "child", "practitioner") for c, _ in commands_for(role)}
    missing = (offered | {"start", "skip", "back"}) - commands
    assert not missing, f"commands without a row in the access table: {sorted(missing)}"
    prefixes = {a[1:].split(":")[0] for a in actions if a.startswith("[")}
    assert {"a1", "m1", "r1", "s1", "x1", "p1"} <= prefixes
    p1 = {a[1:-1].split(":")[1] for a in actions if a.startswith("[p1:")}
    assert p1 >= {"fam", "inv", "invrole", "nation", "sga", "sgc"}
    assert p1 >= set(digest_desk.ACTIONS)
    from rpbot.services.schedule_desk import ACTIONS as SCHEDULE_ACTIONS

    assert p1 >= set(SCHEDULE_ACTIONS)


@pytest.mark.parametrize(("action", "role", "expect"), CASES)
async def test_access(world: World, tmp_path: Path, action: str, role: str, expect: Expect) -> None:
    db = world.copy(tmp_path / "case.db")
    try:
        clock = FakeClock(CASE_TIME)
        router = router_for(db, clock)
        incoming = incoming_for(action, role, world.ids)
        handled = await router.handle(incoming)
        rows = list(handled.rows)
        if "digests" in handled.wake:
            rows += await router.run_digests()
        audit = await audit_after(db, world.audit_from)

        to_them = [shown(r) for r in rows if r.chat_id == incoming.chat_id]
        told = "\n".join([*to_them, handled.notice or ""])
        assert expect.says in told, f"expected {expect.says!r}; told:\n{told}"
        check_words(role, rows)
        refused = [(e.action, e.actor_id) for e in audit if e.action.startswith("refused_")]
        if expect.left:
            assert [r.method for r in rows] == ["send", "leave"]
            assert {r.chat_id for r in rows} == {incoming.chat_id}
        if expect.ok:
            assert refused == [], f"an allowed request was audited as refused: {refused}"
            if expect.flow is not None:
                await check_flow_opened(db, USERS[role], expect.flow)
            return
        after = await state(db)
        assert after == world.before, changed(world.before, after)
        if expect.audit is None:
            assert refused == []
        else:
            actor = world.ids[{P: "sam", C: "mia", A: "alex", B: "bea"}[role]]
            assert refused == [(expect.audit, actor)]
        if role == U:
            await check_stranger_not_stored(db, told)
    finally:
        await db.dispose()


def check_words(role: str, rows: list[OutboxMessage]) -> None:
    """Nobody is shown words they may not see (any row, any chat the case made)."""
    seen = "\n".join(shown(r) for r in rows)
    for whose, marker in MARKERS.items():
        if whose not in MAY_SEE[role]:
            assert marker not in seen, f"{role} was shown {whose}'s words"


async def check_flow_opened(db: Database, user: int, flow_id: str) -> None:
    async with db.transaction() as repos:
        member = await repos.members.by_telegram_id(user)
        assert member is not None
        run = await repos.runs.active_for(member.id or 0)
    assert run is not None
    assert run.flow_id == flow_id


async def check_stranger_not_stored(db: Database, told: str) -> None:
    assert told.strip() in (UNKNOWN, BAD_CODE, GROUP_TEXT), told
    async with db.transaction() as repos:
        assert await repos.members.by_telegram_id(STRANGER) is None


def changed(before: dict[str, list[Any]], after: dict[str, list[Any]]) -> str:
    lines = []
    for table in before:
        if before[table] != after[table]:
            gone = [r for r in before[table] if r not in after[table]]
            new = [r for r in after[table] if r not in before[table]]
            lines.append(f"{table}: -{gone} +{new}")
    return "a refusal changed records:\n" + "\n".join(lines)
