"""A person's copy of everything the bot holds about them: one readable HTML page, one JSON file.

What a family member's export holds: their own member row (name, role, Telegram user id,
language, timezone, quiet hours, whether messages reach them, when they joined and were last
active), their family's name and nation and their practitioner's name, every answer they gave
(activity title, the question, the answer, who can see it, when), their activities (flow
runs: status and times), their reminder schedules and every reminder sent to them.

Their part in the household agreement (ideas they suggested, their answers and reasons,
their chore check-ins) is included too.

What it leaves out, on purpose (see SECURITY.md, "Data protection"):

- other people's answers, even in the same family (a parent never gets a child's words here);
- safeguarding alerts, including ones raised from the person's own words: the file can end up
  on a shared phone or in the hands of someone who hurts them, and a record that a concern
  was passed on could put them or a child at risk. The service holds these and handles such
  requests itself (in the UK, data protection law lets social work records be withheld where
  disclosure would likely cause serious harm). Every export carries the same note about
  records held elsewhere, so its presence reveals nothing;
- internal ids, message texts the bot sent (they are in the person's own Telegram chat).

A practitioner's export holds their own row, their families (names, nations, how many have
joined; no member's details or words) and the audit entries of what they did.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from rpbot.engine import Library
from rpbot.engine.model import AskStep, Option
from rpbot.engine.text import fill, pick_language
from rpbot.scheduling.rules import Rule, RuleError
from rpbot.services.agreements import agreement_export_rows, agreement_html
from rpbot.storage.repos import Repos
from rpbot.storage.tables import Answer, Family, Member, Practitioner

FORMAT = "rpbot-export/1"

SHARE_LABELS = {
    "private": "Only you",
    "practitioner": "You and your practitioner",
    "family": "Your family and your practitioner",
}
STATUS_LABELS = {
    "active": "In progress",
    "completed": "Finished",
    "stopped": "Stopped (answers kept)",
    "expired": "Closed after a while (answers kept)",
}
NOT_INCLUDED = (
    "Not in this file: the messages the bot sent you (they are in your Telegram chat), other "
    "people's answers, and records your practitioner's service keeps outside this bot (some "
    "of which the law lets a service keep back for safety reasons). If you have questions "
    "about your records, ask your practitioner or their service."
)
NOT_INCLUDED_CHILD = (
    "Not in here: the messages the bot sent you (they're in your chat) and other people's "
    "answers. Your worker's service may keep other notes. You can ask your worker about them."
)
INTRO = {
    "parent": (
        "This is everything this bot keeps about you, made on {when}. It is only for you: "
        "keep it somewhere safe."
    ),
    "child": "This is everything the bot has saved about you ({when}). It's just for you 🙂",
    "practitioner": (
        "This is what the bot keeps about you as a practitioner, made on {when}: your details, "
        "your families (no family member's details or words) and a log of what you did."
    ),
}


@dataclass(frozen=True)
class Export:
    """One person's data: as a JSON-ready dict and rendered as JSON and HTML text."""

    data: dict[str, Any]
    json_text: str
    html_text: str
    answers: int

    def filenames(self, now: datetime) -> tuple[str, str]:
        """(HTML file name, JSON file name) for a copy made at ``now``."""
        day = now.strftime("%Y-%m-%d")
        return f"my-data-{day}.html", f"my-data-{day}.json"


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _iso(when: datetime | None) -> str | None:
    return when.isoformat() if when is not None else None


def _local(when: datetime | None, zone: ZoneInfo) -> str:
    return when.astimezone(zone).strftime("%d %b %Y %H:%M") if when is not None else "-"


class _Flows:
    """Titles, questions and option labels from the dialogues (ids if a flow is gone)."""

    def __init__(self, library: Library | None, language: str, name: str) -> None:
        self.library = library
        self.language = language
        self.name = name

    def title(self, flow_id: str) -> str:
        flow = self.library.get(flow_id) if self.library is not None else None
        return pick_language(flow.title, self.language) if flow is not None else flow_id

    def _step(self, answer: Answer) -> AskStep | None:
        flow = self.library.get(answer.flow_id) if self.library is not None else None
        step = flow.steps.get(answer.step_id) if flow is not None else None
        return step if isinstance(step, AskStep) else None

    def question(self, answer: Answer) -> str:
        step = self._step(answer)
        if step is None:
            return answer.name.replace("_", " ")
        text = pick_language(step.text, self.language)
        known = {"first_name": self.name}
        return fill(text, lambda key: known.get(key, "…")).strip()

    def shown(self, answer: Answer, value: Any) -> str:
        """The answer as the person would read it (option labels, 'skipped', lists)."""
        if answer.free_text:
            return answer.free_text
        if value is None:
            return "(skipped)"
        if isinstance(value, bool):
            return "Yes" if value else "No"
        step = self._step(answer)
        labels: dict[str, str] = {}
        for option in (step.options or []) if step is not None else []:
            if isinstance(option, Option):
                labels[option.value] = pick_language(option.label, self.language)
        if isinstance(value, list):
            return ", ".join(labels.get(str(v), str(v)) for v in value) or "(none)"
        if isinstance(value, dict):
            return ", ".join(f"{k}: {v}" for k, v in value.items())
        return labels.get(str(value), str(value))


def _value(answer: Answer) -> Any:
    try:
        return json.loads(answer.value_json)
    except ValueError:
        return answer.value_json


async def member_export(
    repos: Repos, library: Library | None, member: Member, family: Family, now: datetime
) -> Export:
    """Everything stored about one parent or child (see the module doc for what is left out)."""
    mid = member.id or 0
    practitioner = await repos.practitioners.by_id(family.practitioner_id)
    answers = await repos.answers.for_member(mid)
    runs = await repos.runs.for_member(mid)
    schedules = await repos.schedules.for_member(mid)
    reminders = await repos.reminders.for_member(mid)
    agreement = agreement_export_rows(
        await repos.agreements.items_by(mid),
        await repos.agreements.votes_by(mid),
        await repos.chore_logs.for_member(mid),
    )
    turns = await repos.circles.for_member(mid)
    flows = _Flows(library, member.language, member.display_name)
    started = {run.id: run.started_at for run in runs}
    data: dict[str, Any] = {
        "format": FORMAT,
        "made_at": _iso(now),
        "you": {
            "name": member.display_name,
            "role": member.role,
            "telegram_user_id": member.telegram_user_id,
            "language": member.language,
            "timezone": member.timezone,
            "quiet_hours": {"from": member.quiet_start, "to": member.quiet_end},
            "receiving_messages": member.active,
            "joined_at": _iso(member.created_at),
            "last_active_at": _iso(member.last_active_at),
        },
        "family": {
            "name": family.name,
            "nation": family.nation,
            "practitioner": practitioner.name if practitioner is not None else None,
        },
        "answers": [
            {
                "activity": flows.title(a.flow_id),
                "activity_id": a.flow_id,
                "question": flows.question(a),
                "answer": flows.shown(a, value),
                "value": value,
                "typed_text": a.free_text,
                "answer_type": a.ask_type,
                "who_can_see_it": SHARE_LABELS.get(a.share, a.share),
                "saved_at": _iso(a.created_at),
                "activity_started_at": _iso(started.get(a.run_id)),
            }
            for a in answers
            for value in [_value(a)]
        ],
        "activities": [
            {
                "activity": flows.title(run.flow_id),
                "activity_id": run.flow_id,
                "status": STATUS_LABELS.get(run.status, run.status),
                "started_at": _iso(run.started_at),
                "ended_at": _iso(run.ended_at),
            }
            for run in runs
        ],
        "reminder_schedules": [
            {
                "activity": flows.title(s.flow_id),
                "when": _describe(s.days, s.time_of_day),
                "timezone": member.timezone,
                "paused_until": _iso(s.paused_until),
                "set_up_by": s.created_by,
            }
            for s in schedules
        ],
        "reminders": [
            {
                "activity": flows.title(r.flow_id),
                "due_at": _iso(r.due_at),
                "status": r.status,
                "sent_at": _iso(r.sent_at),
                "answered_at": _iso(r.answered_at),
            }
            for r in reminders
        ],
        "household_agreement": agreement,
        "circle_answers": [
            {
                "circle": t.round_id,
                "status": t.status,
                "answer": t.answer,
                "may_be_shared": t.share_ok,
                "answered_at": _iso(t.answered_at),
            }
            for t in turns
        ],
        "not_included": NOT_INCLUDED_CHILD if member.role == "child" else NOT_INCLUDED,
    }
    zone = _zone(member.timezone)
    page = _member_html(data, member.role, zone, now)
    return Export(data, _json(data), page, len(answers))


async def practitioner_export(repos: Repos, practitioner: Practitioner, now: datetime) -> Export:
    """A practitioner's own record: their row, their families (no members' data), their log."""
    families = await repos.families.for_practitioner(practitioner.id or 0)
    entries = await repos.privacy.audit_by("practitioner", practitioner.id or 0)
    family_rows = []
    for family in families:
        joined = await repos.members.in_family(family.id or 0)
        family_rows.append(
            {
                "name": family.name,
                "nation": family.nation,
                "created_at": _iso(family.created_at),
                "members_joined": len(joined),
            }
        )
    data: dict[str, Any] = {
        "format": FORMAT,
        "made_at": _iso(now),
        "you": {
            "name": practitioner.name,
            "role": "practitioner",
            "telegram_user_id": practitioner.telegram_user_id,
            "language": practitioner.language,
            "timezone": practitioner.timezone,
            "weekly_digest": {
                "days": practitioner.digest_days,
                "time": practitioner.digest_time,
                "next_at": _iso(practitioner.digest_next_at),
            },
            "registered_at": _iso(practitioner.created_at),
        },
        "families": family_rows,
        "activity_log": [
            {
                "at": _iso(e.at),
                "action": e.action,
                "about": e.target_type,
                "about_id": e.target_id,
            }
            for e in entries
        ],
        "not_included": (
            "Not in this file: your families' members and their answers (they belong to the "
            "families) and the messages the bot sent you (they are in your Telegram chat)."
        ),
    }
    page = _practitioner_html(data, _zone(practitioner.timezone), now)
    return Export(data, _json(data), page, 0)


def _describe(days: str, at: str) -> str:
    try:
        return Rule.parse(days, at).describe()
    except RuleError:
        return f"{days or 'every day'} at {at}"


def _json(data: dict[str, Any]) -> str:
    return json.dumps(data, ensure_ascii=False, indent=2) + "\n"


# --- HTML ------------------------------------------------------------------------------

STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",sans-serif;margin:0 auto;max-width:44rem;
padding:1rem;line-height:1.5;color:#1d2327}
h1{font-size:1.5rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #ccd}
h3{font-size:1rem;margin-bottom:.25rem}
dl{margin:0}dt{font-weight:600;margin-top:.6rem}dd{margin:0 0 0 .8rem}
.meta{color:#586069;font-size:.85rem}.note{background:#f4f6fb;padding:.8rem;border-radius:6px}
table{border-collapse:collapse;width:100%}td,th{text-align:left;padding:.3rem;
border-bottom:1px solid #eee;vertical-align:top}
@media print{body{max-width:none}}
"""


def _e(value: object) -> str:
    return html.escape("" if value is None else str(value))


def _page(title: str, body: list[str]) -> str:
    return (
        '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(title)}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n"
        + "\n".join(body)
        + "\n</body>\n</html>\n"
    )


def _pairs(rows: list[tuple[str, object]]) -> str:
    return "<dl>" + "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in rows) + "</dl>"


def _when(value: str | None, zone: ZoneInfo) -> str:
    return _local(datetime.fromisoformat(value), zone) if value else "-"


def _member_html(data: dict[str, Any], role: str, zone: ZoneInfo, now: datetime) -> str:
    you, family = data["you"], data["family"]
    body = [
        f"<h1>Everything we keep about you, {_e(you['name'])}</h1>",
        f"<p>{_e(INTRO.get(role, INTRO['parent']).format(when=_local(now, zone)))}</p>",
        "<h2>About you</h2>",
        _pairs(
            [
                ("Name", you["name"]),
                ("Role", you["role"]),
                ("Family", f"{family['name']} ({family['nation']})"),
                ("Practitioner", family["practitioner"] or "-"),
                ("Telegram user id", you["telegram_user_id"]),
                ("Language", you["language"]),
                ("Time zone", you["timezone"]),
                ("Quiet hours", f"{you['quiet_hours']['from']}-{you['quiet_hours']['to']}"),
                ("Getting messages", "Yes" if you["receiving_messages"] else "No"),
                ("Joined", _when(you["joined_at"], zone)),
                ("Last active", _when(you["last_active_at"], zone)),
            ]
        ),
        f"<h2>Your answers ({len(data['answers'])})</h2>",
    ]
    if not data["answers"]:
        body.append("<p>No answers saved.</p>")
    current: tuple[str, str | None] | None = None
    for answer in data["answers"]:
        group = (answer["activity"], answer["activity_started_at"])
        if group != current:
            if current is not None:
                body.append("</dl>")
            current = group
            started = _when(answer["activity_started_at"], zone)
            body.append(f"<h3>{_e(answer['activity'])} · {_e(started)}</h3><dl>")
        body.append(
            f"<dt>{_e(answer['question'])}</dt><dd>{_e(answer['answer'])}"
            f'<div class="meta">Seen by: {_e(answer["who_can_see_it"])} · saved '
            f"{_e(_when(answer['saved_at'], zone))}</div></dd>"
        )
    if current is not None:
        body.append("</dl>")
    body.append(f"<h2>Your activities ({len(data['activities'])})</h2>")
    body.append(
        _table(
            ["Activity", "Started", "Ended", "How it went"],
            [
                [
                    a["activity"],
                    _when(a["started_at"], zone),
                    _when(a["ended_at"], zone),
                    a["status"],
                ]
                for a in data["activities"]
            ],
        )
    )
    body.append("<h2>Your reminders</h2>")
    body.append(
        _table(
            ["Activity", "When", "Paused until"],
            [
                [s["activity"], s["when"], _when(s["paused_until"], zone)]
                for s in data["reminder_schedules"]
            ],
        )
    )
    body.append(f"<h3>Reminders sent ({len(data['reminders'])})</h3>")
    body.append(
        _table(
            ["Activity", "Due", "What happened"],
            [[r["activity"], _when(r["due_at"], zone), r["status"]] for r in data["reminders"]],
        )
    )
    body.append(agreement_html(data.get("household_agreement", {})))
    body.append(f"<h2>Your circle answers ({len(data['circle_answers'])})</h2>")
    body.append(
        _table(
            ["Answered", "Your answer", "What happened"],
            [
                [_when(t["answered_at"], zone), t["answer"] or "", t["status"]]
                for t in data["circle_answers"]
            ],
        )
    )
    body.append("<h2>What is not in this file</h2>")
    body.append(f'<p class="note">{_e(data["not_included"])}</p>')
    return _page(f"Your data - {you['name']}", body)


def _practitioner_html(data: dict[str, Any], zone: ZoneInfo, now: datetime) -> str:
    you = data["you"]
    digest = you["weekly_digest"]
    body = [
        f"<h1>What the bot keeps about you, {_e(you['name'])}</h1>",
        f"<p>{_e(INTRO['practitioner'].format(when=_local(now, zone)))}</p>",
        "<h2>About you</h2>",
        _pairs(
            [
                ("Name", you["name"]),
                ("Telegram user id", you["telegram_user_id"]),
                ("Language", you["language"]),
                ("Time zone", you["timezone"]),
                ("Weekly digest", f"{digest['days']} at {digest['time']}"),
                ("Registered", _when(you["registered_at"], zone)),
            ]
        ),
        f"<h2>Your families ({len(data['families'])})</h2>",
        _table(
            ["Family", "Nation", "Members joined", "Added"],
            [
                [f["name"], f["nation"], f["members_joined"], _when(f["created_at"], zone)]
                for f in data["families"]
            ],
        ),
        f"<h2>What you did ({len(data['activity_log'])})</h2>",
        _table(
            ["When", "Action", "About"],
            [
                [_when(e["at"], zone), e["action"], f"{e['about'] or ''} {e['about_id'] or ''}"]
                for e in data["activity_log"]
            ],
        ),
        "<h2>What is not in this file</h2>",
        f'<p class="note">{_e(data["not_included"])}</p>',
    ]
    return _page(f"Your data - {you['name']}", body)


def _table(heads: list[str], rows: list[list[object]]) -> str:
    if not rows:
        return "<p>None.</p>"
    head = "".join(f"<th>{_e(h)}</th>" for h in heads)
    lines = ["<tr>" + "".join(f"<td>{_e(c)}</td>" for c in row) + "</tr>" for row in rows]
    return f"<table><tr>{head}</tr>{''.join(lines)}</table>"
