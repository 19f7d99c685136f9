"""The digest as Telegram messages (HTML parse mode): an overview, then one message per family.

Every piece of someone's words is escaped. Messages are split at block or line boundaries so
no chunk exceeds Telegram's 4096 characters and no tag is ever cut in half.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from datetime import datetime, timedelta
from html import escape
from zoneinfo import ZoneInfo

from rpbot.digest.build import number_text
from rpbot.digest.model import (
    AlertLine,
    Checkin,
    CircleLine,
    DigestReport,
    Entry,
    FamilyDigest,
    MemberLine,
    ScaleTrend,
)

LIMIT = 4096
NATIONS = {
    "england": "England",
    "wales": "Wales",
    "scotland": "Scotland",
    "northern_ireland": "Northern Ireland",
}
MARKS = {"urgent": "🔴", "attention": "🟠", "note": "🔹"}
ACTIONS = {"ack": "acknowledged", "call": "will call"}
_TAG = re.compile(r"<[^>]+>")


def h(text: str) -> str:
    """Escape someone's words for Telegram HTML."""
    return escape(text, quote=False)


def q(text: str) -> str:
    """A quote in curly quotes, escaped."""
    return f"“{h(text)}”"


def local(when: datetime, tz: str) -> datetime:
    """``when`` in the practitioner's timezone."""
    return when.astimezone(ZoneInfo(tz))


def day(when: datetime, tz: str) -> str:
    """'Sun 22 Nov'."""
    return local(when, tz).strftime("%a %d %b").replace(" 0", " ")


def day_time(when: datetime, tz: str) -> str:
    """'Sun 22 Nov 19:42'."""
    return f"{day(when, tz)} {local(when, tz).strftime('%H:%M')}"


def period(report: DigestReport) -> str:
    """'Mon 16 Nov – Sun 22 Nov 2026' (the last day is the one before ``end``)."""
    last = local(report.end - timedelta(seconds=1), report.timezone)
    return f"{day(report.start, report.timezone)} – {day(last, report.timezone)} {last.year}"


def split_html(blocks: Sequence[str], limit: int = LIMIT, continued: str = "") -> list[str]:
    """Pack blocks (each complete HTML) into messages of at most ``limit`` characters.

    Blocks are joined by blank lines; a block too long for one message is split between its
    lines; a line too long on its own loses its formatting and is cut. ``continued`` starts
    every message after the first.
    """
    pieces: list[str] = []
    for block in blocks:
        if len(block) <= limit - len(continued) - 2:
            pieces.append(block)
            continue
        for line in block.split("\n"):
            pieces.extend(_cut_line(line, limit - len(continued) - 2))
    messages: list[str] = []
    current = ""
    for piece in pieces:
        joined = f"{current}\n\n{piece}" if current else piece
        if len(joined) <= limit:
            current = joined
            continue
        messages.append(current)
        current = f"{continued}\n\n{piece}" if continued else piece
    if current:
        messages.append(current)
    return messages


def _cut_line(line: str, limit: int) -> list[str]:
    if len(line) <= limit:
        return [line]
    plain = h(_TAG.sub("", line).replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&"))
    chunks, rest = [], plain
    while rest:
        cut = limit
        entity = rest.rfind("&", max(0, cut - 6), cut)
        if entity != -1 and ";" not in rest[entity:cut]:
            cut = entity  # never cut inside &amp; and friends
        chunks.append(rest[:cut])
        rest = rest[cut:]
    return chunks


def overview(report: DigestReport) -> list[str]:
    """The first message(s): the week, then families needing attention first."""
    count = len(report.families)
    blocks = [
        f"📋 <b>Weekly digest</b> for {h(report.practitioner)}\n"
        f"{period(report)} · {count} {'family' if count == 1 else 'families'}"
    ]
    attention = report.attention
    if attention:
        lines = [f"<b>Need your attention ({len(attention)})</b>"]
        for family in attention:
            worst = family.flags[0]
            reasons = "; ".join(h(f.text) for f in family.flags if f.severity != "note")
            lines.append(f"{MARKS[worst.severity]} <b>{h(family.name)}</b>: {reasons}")
        blocks.append("\n".join(lines))
    steady = [f for f in report.families if not f.needs_attention]
    if steady:
        names = ", ".join(h(f.name) for f in steady)
        blocks.append(f"<b>Going steadily ({len(steady)})</b>\n{names}")
    if not report.families:
        blocks.append("You have no families yet. /newfamily adds one.")
    else:
        blocks.append(
            "Each family follows, with a chart. The full report is attached as a file "
            "you can open on your phone or print."
        )
    return split_html(blocks, continued="📋 <b>Weekly digest</b> (continued)")


def family_messages(family: FamilyDigest, tz: str) -> list[str]:
    """One family's message(s): brief for a quiet week, fuller otherwise."""
    header = f"🏠 <b>{h(family.name)} family</b> · {NATIONS.get(family.nation, family.nation)}"
    flags = "\n".join(f"{MARKS[f.severity]} {h(f.text)}" for f in family.flags)
    blocks = [header + (f"\n{flags}" if flags else ""), _people(family.members, tz)]
    blocks.append(programme_text(family))
    if not family.quiet:
        blocks += [
            _checkins(family.checkins, family.scale, tz),
            _diary(family),
            _entries("Difficult moments", family.incidents, tz),
            _entries("Boundaries", family.boundaries, tz),
            _learning(family.learning),
            _children(family, tz),
            _chores(family),
        ]
    blocks += [_circles(family.circles, tz), _alerts(family.alerts, tz), _next_week(family)]
    return split_html([b for b in blocks if b], continued=f"{header} (continued)")


def _people(members: Iterable[MemberLine], tz: str) -> str:
    lines = ["<b>People</b>"]
    for m in members:
        parts = []
        if m.started:
            parts.append(f"{m.completed} of {m.started} activities done")
        else:
            parts.append("nothing started")
        if m.expired:
            parts.append(f"{m.expired} left unfinished")
        if not m.active:
            parts.append("⛔ blocked the bot")
        seen = day(m.last_active, tz) if m.last_active else "never"
        parts.append(f"last active {seen}")
        if m.reminders_sent:
            parts.append(f"{m.reminders_ignored} of {m.reminders_sent} reminders unanswered")
        lines.append(f"• {h(m.name)} ({m.role}): " + " · ".join(parts))
    if len(lines) == 1:
        lines.append("No one has joined yet.")
    return "\n".join(lines)


def scale_line(scale: ScaleTrend) -> str:
    """'Scale <b>3/10</b> (↓3 from 6 last week)' or '' when there is no number this week."""
    if scale.now is None:
        if scale.previous is None:
            return ""
        return f"No scale this week (last: {number_text(scale.previous)}/10)"
    text = f"Scale <b>{number_text(scale.now)}/10</b>"
    change = scale.change
    if change is not None and scale.previous_weeks_ago is not None:
        when = (
            "last week"
            if scale.previous_weeks_ago == 1
            else (f"{scale.previous_weeks_ago} weeks ago")
        )
        arrow = "↑" if change > 0 else "↓" if change < 0 else "→"
        size = number_text(abs(change)) if change else "no change"
        text += f" ({arrow}{size} from {number_text(scale.previous)} {when})"
    trend = [number_text(v) for v in scale.weeks if v is not None]
    if len(trend) > 1:
        text += " · trend " + " → ".join(trend)
    return text


def _checkins(checkins: Sequence[Checkin], scale: ScaleTrend, tz: str) -> str:
    line = scale_line(scale)
    if not checkins:
        return "<b>Check-in</b>: none this week" + (f"\n{line}" if line else "")
    lines = ["<b>Check-in</b>" + (f"\n{line}" if line else "")]
    for c in checkins:
        lines.append(
            f"<i>{day(c.at, tz)}, {h(c.who)}</i>"
            + (f" · {c.scale}/10" if c.scale is not None and len(checkins) > 1 else "")
        )
        for mark, label, text in (
            ("✅", "Working well", c.working_well),
            ("😟", "Worries", c.worried),
            ("➡️", "Needs to happen", c.needs_to_happen),
        ):
            if text:
                lines.append(f"{mark} {label}: {q(text)}")
        lines += [f"• {quote.label}: {q(quote.text)}" for quote in c.more]
        if c.wants_to_talk:
            lines.append("💬 Would like to talk with you")
    return "\n".join(lines)


def _diary(family: FamilyDigest) -> str:
    diary = family.diary
    if not diary.entries:
        return ""
    lines = [f"<b>Diary</b> · {diary.entries} {'entry' if diary.entries == 1 else 'entries'}"]
    if diary.hard_parts:
        lines.append("Hard: " + ", ".join(f"{part} ×{n}" for part, n in diary.hard_parts))
    if diary.flashpoints:
        lines.append("Tense around " + ", ".join(diary.flashpoints))
    lines += [f"🌟 Went well: {q(w.text)} ({h(w.label)})" for w in diary.went_well]
    if diary.feeling_average is not None:
        lines.append(f"How they felt: {number_text(diary.feeling_average)} of 5 on average")
    return "\n".join(lines)


def _entry_line(entry: Entry, tz: str, *, title: bool = False) -> str:
    head = f"{day(entry.at, tz)}, {h(entry.who)}"
    if title:
        head += f" · {h(entry.title)}"
    parts = [h(fact) for fact in entry.facts]
    parts += [f"{h(quote.label)}: {q(quote.text)}" for quote in entry.quotes]
    return f"• {head}" + (": " + " · ".join(parts) if parts else "")


def _entries(title: str, entries: Sequence[Entry], tz: str) -> str:
    if not entries:
        return ""
    return "\n".join([f"<b>{title}</b>", *(_entry_line(e, tz) for e in entries)])


def programme_text(family: FamilyDigest) -> str:
    """'<b>Programme</b>: week 3 of 8 · 2 modules done · this week: Fair process' or ''."""
    p = family.programme
    if p is None:
        return ""
    parts = [f"week {p.week} of {p.weeks}", f"{p.done} of {p.weeks} modules done"]
    if p.current:
        parts.append(f"this week: {h(p.current)}")
    return "<b>Programme</b>: " + " · ".join(parts) + (" (tailored)" if p.tailored else "")


def circle_turn(name: str, answer: str | None, state: str) -> str:
    """One turn of a circle: the quote, or that they passed or kept it private."""
    if state == "private":
        return f"{h(name)} kept their answer private 🔒"
    if state == "waiting":
        return f"{h(name)}: not answered yet"
    if state == "answered" and answer is None:
        return f"{h(name)}: answered (shared when the circle closes)"
    if state == "passed" or answer is None:
        return f"{h(name)} passed"
    return f"{h(name)}: {q(answer)}"


def _circles(circles: Sequence[CircleLine], tz: str) -> str:
    if not circles:
        return ""
    lines = ["<b>Circles</b>"]
    for c in circles:
        state = "" if c.closed else " (still open)"
        lines.append(
            f"• {day(c.at, tz)}, {q(c.prompt)} from {h(c.starter)}{state}: "
            f"{c.answered} of {len(c.turns)} answered"
        )
        lines += [f"  {i}. {circle_turn(*t)}" for i, t in enumerate(c.turns, start=1)]
    return "\n".join(lines)


def _learning(items: Sequence[str]) -> str:
    return f"<b>Learning</b>: {h(', '.join(items))}" if items else ""


def _children(family: FamilyDigest, tz: str) -> str:
    lines = []
    for child in family.children:
        lines += [_entry_line(entry, tz, title=True) for entry in child.shared]
        if child.private_count:
            count = child.private_count
            noun = "activity" if count == 1 else "activities"
            lines.append(f"• {h(child.name)} kept {count} {noun} private 🔒")
    return "\n".join(["<b>Children's words</b>", *lines]) if lines else ""


def _chores(family: FamilyDigest) -> str:
    lines = []
    for c in family.chores:
        extra = [f"{n} {label}" for n, label in ((c.a_bit, "a bit"), (c.not_yet, "not yet")) if n]
        base = f"{c.done} of {c.agreed} done" if c.agreed else f"{c.done} done (none scheduled)"
        lines.append(f"• {h(c.name)}: {base}" + (f" ({', '.join(extra)})" if extra else ""))
        lines += [
            f"   – {h(i.text)} ({h(i.when)}): {i.done} of {i.due} days done"
            + (f", {i.confirmed} checked by a parent" if i.confirmed else "")
            for i in c.items
        ]
    return "\n".join(["<b>Chores</b>", *lines]) if lines else ""


def alert_status(alert: AlertLine, tz: str) -> str:
    """'⏳ not acknowledged' or '✅ acknowledged Wed 18 Nov 21:20 (will call)'."""
    if alert.status == "open" or alert.acknowledged_at is None:
        return "⏳ not acknowledged"
    action = ACTIONS.get(alert.action or "", "")
    return f"✅ acknowledged {day_time(alert.acknowledged_at, tz)}" + (
        f" ({action})" if action else ""
    )


def _alerts(alerts: Sequence[AlertLine], tz: str) -> str:
    if not alerts:
        return ""
    lines = ["<b>Safeguarding</b>"]
    for a in alerts:
        what = ", ".join(c.replace("_", " ") for c in a.categories)
        lines.append(f"• {day_time(a.at, tz)}, {h(a.who)}: {h(what)} · {alert_status(a, tz)}")
    return "\n".join(lines)


def _next_week(family: FamilyDigest) -> str:
    if not family.next_week:
        return "<b>Next week</b>: nothing scheduled"
    lines = ["<b>Next week</b>"]
    for item in family.next_week:
        note = f" ({h(item.note)})" if item.note else ""
        lines.append(f"• {h(item.who)}: {h(item.what)}, {h(item.when)}{note}")
    return "\n".join(lines)


def plain(html_text: str) -> str:
    """Telegram HTML as plain text (for the CLI and logs of shape, never of content)."""
    text = _TAG.sub("", html_text)
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
