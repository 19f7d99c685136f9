"""A known week for three families, as plain rows (no database): the digest tests' fixture.

Period: Monday 16 to Sunday 22 November 2026 (London = UTC in November).
- Green (England): Sam (parent) checks in at 6 (4 the week before), two diary entries; Mia
  (child) keeps her Three Houses private, shares a reflection, did 2 of 3 chores.
- Hill (Wales): Jo (parent) checks in at 2 (5 the week before) and wants to talk; Leo (child)
  blocked the bot after an open safeguarding alert.
- Brook (Scotland): Kim (parent) did nothing this week.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

from rpbot.storage._digests import DigestRows
from rpbot.storage.tables import (
    Answer,
    Family,
    FlowRun,
    Member,
    Reminder,
    SafeguardingAlert,
    Schedule,
)

START = datetime(2026, 11, 16, tzinfo=UTC)
END = START + timedelta(days=7)
PRIVATE_WORDS = "PRIVATE worry about the dog"


def at(day: int, hour: int, minute: int = 0) -> datetime:
    """``day`` days after Monday 16 November, at hh:mm UTC (negative: earlier weeks)."""
    return START + timedelta(days=day, hours=hour, minutes=minute)


class Rows:
    """Collects rows with ids, like the database would."""

    def __init__(self) -> None:
        self.families: list[Family] = []
        self.members: list[Member] = []
        self.runs: list[FlowRun] = []
        self.answers: list[Answer] = []
        self.reminders: list[Reminder] = []
        self.schedules: list[Schedule] = []
        self.alerts: list[SafeguardingAlert] = []

    def family(self, name: str, nation: str) -> Family:
        row = Family(
            id=len(self.families) + 1,
            practitioner_id=1,
            name=name,
            nation=nation,
            created_at=at(-21, 9),
        )
        self.families.append(row)
        return row

    def member(
        self,
        family: Family,
        name: str,
        role: str,
        *,
        active: bool = True,
        last: datetime | None = None,
    ) -> Member:
        row = Member(
            id=len(self.members) + 1,
            family_id=family.id or 0,
            role=role,
            display_name=name,
            telegram_user_id=1000 + len(self.members),
            active=active,
            created_at=at(-21, 10),
            last_active_at=last,
        )
        self.members.append(row)
        return row

    def run(
        self,
        member: Member,
        flow: str,
        when: datetime,
        status: str = "completed",
        share: str = "practitioner",
        **answers: Any,
    ) -> FlowRun:
        run = FlowRun(
            id=len(self.runs) + 1,
            member_id=member.id or 0,
            family_id=member.family_id,
            flow_id=flow,
            flow_version=1,
            status=status,
            session_json="{}",
            started_at=when,
            updated_at=when,
            expires_at=when + timedelta(days=3),
        )
        self.runs.append(run)
        for i, (name, value) in enumerate(answers.items()):
            self.answers.append(
                Answer(
                    id=len(self.answers) + 1,
                    run_id=run.id or 0,
                    member_id=member.id or 0,
                    family_id=member.family_id,
                    flow_id=flow,
                    step_id=name,
                    name=name,
                    ask_type="text" if isinstance(value, str) and " " in value else "choice",
                    value_json=json.dumps(value),
                    free_text=value if isinstance(value, str) and " " in value else None,
                    share=share,
                    created_at=when + timedelta(minutes=i),
                )
            )
        return run

    def reminder(self, member: Member, flow: str, when: datetime, status: str) -> None:
        self.reminders.append(
            Reminder(
                id=len(self.reminders) + 1,
                member_id=member.id or 0,
                flow_id=flow,
                due_at=when,
                send_at=when,
                status=status,
                created_at=when,
            )
        )

    def schedule(self, member: Member, flow: str, days: str, time: str) -> None:
        self.schedules.append(
            Schedule(
                id=len(self.schedules) + 1,
                member_id=member.id or 0,
                flow_id=flow,
                days=days,
                time_of_day=time,
                next_fire_at=END,
                created_at=at(-21, 10),
            )
        )

    def digest_rows(self) -> DigestRows:
        scales = [a for a in self.answers if a.name == "safety_scale"]
        in_period = [a for a in self.answers if START <= a.created_at < END]
        return DigestRows(
            self.families,
            self.members,
            self.runs,
            in_period,
            scales,
            self.reminders,
            self.schedules,
            self.alerts,
        )


def sample() -> DigestRows:
    """The fixture week."""
    r = Rows()
    green, hill, brook = (
        r.family("Green", "england"),
        r.family("Hill", "wales"),
        r.family("Brook", "scotland"),
    )
    sam = r.member(green, "Sam", "parent", last=at(6, 19))
    mia = r.member(green, "Mia", "child", last=at(5, 17))
    jo = r.member(hill, "Jo", "parent", last=at(6, 20))
    leo = r.member(hill, "Leo", "child", active=False, last=at(2, 18))
    kim = r.member(brook, "Kim", "parent", last=at(-10, 19))

    r.run(sam, "three_questions", at(-1, 18), safety_scale=4)
    r.run(
        sam,
        "three_questions",
        at(6, 18),
        working_well="Bedtime <b>story</b> & cuddles",
        worried="Mornings are still a battle",
        needs_to_happen="A calmer school run",
        safety_scale=6,
        helping_most="Sticking to the routine",
    )
    r.run(
        sam,
        "day_in_the_life",
        at(1, 19, 30),
        morning="hard",
        bedtime="calm",
        flashpoint="07:45",
        went_well="We baked a cake together",
        feeling=3,
    )
    r.run(
        sam,
        "day_in_the_life",
        at(3, 19, 30),
        morning="hard",
        tea="hard",
        flashpoint="17:30",
        feeling=2,
    )
    r.run(sam, "parenting_styles", at(2, 20))
    r.run(
        sam,
        "incident_reflection",
        at(4, 21),
        status="stopped",
        what_happened="Shouting match about the tablet",
        make_right="Say sorry at breakfast",
    )
    r.run(
        mia,
        "three_houses",
        at(2, 17),
        share="private",
        good_things="My new bike",
        worries=PRIVATE_WORDS,
        share_family=False,
    )
    r.run(
        mia,
        "child_reflection",
        at(4, 17),
        share="family",
        what_happened="I broke the blue cup",
        next_time_idea="Ask for help to carry it",
    )
    r.run(mia, "feelings_checkin", at(5, 17), status="expired", share="private")
    for day, did in ((0, "yes"), (1, "yes"), (2, "not_yet")):
        r.reminder(mia, "chore_checkin", at(day, 17), "started")
        r.run(
            mia, "chore_checkin", at(day, 17, 5), share="family", which_chore="dishes", did_it=did
        )
    r.reminder(sam, "day_in_the_life", at(5, 19, 30), "sent")
    r.schedule(sam, "day_in_the_life", "", "19:30")
    r.schedule(mia, "chore_checkin", "", "17:00")

    r.run(jo, "three_questions", at(-2, 18), safety_scale=5)
    r.run(
        jo,
        "three_questions",
        at(6, 19),
        worried="Money is really tight",
        safety_scale=2,
        wants_to_talk=True,
    )
    for day in range(4):
        r.reminder(jo, "day_in_the_life", at(day, 19, 30), "sent")
    r.alerts.append(
        SafeguardingAlert(
            id=1,
            family_id=hill.id or 0,
            member_id=leo.id,
            practitioner_id=1,
            role="child",
            categories="harm_to_child",
            text="(words)",
            status="open",
            created_at=at(2, 18, 10),
        )
    )
    r.schedule(leo, "three_houses", "sun", "16:00")
    r.schedule(kim, "three_questions", "sun", "18:00")
    return r.digest_rows()
