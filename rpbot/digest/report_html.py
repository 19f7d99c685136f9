"""The digest as one self-contained HTML file: readable on a phone, tidy when printed.

Charts are embedded as data URIs, so the file works offline. Every piece of someone's words
goes through :func:`html.escape`; quotes here are complete (Telegram messages shorten them).
"""

from __future__ import annotations

import base64
from collections.abc import Mapping
from html import escape

from rpbot.digest.chart import chart_alt
from rpbot.digest.model import DigestReport, Entry, FamilyDigest
from rpbot.digest.text import (
    MARKS,
    NATIONS,
    alert_status,
    circle_turn,
    day,
    day_time,
    period,
    programme_text,
    q,
    scale_line,
)

CSS = """
:root { color-scheme: light; }
body { font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: #1d252c;
  margin: 0 auto; max-width: 46rem; padding: 1rem; }
h1 { font-size: 1.5rem; margin: 0 0 .25rem; }
h2 { font-size: 1.25rem; border-top: 3px solid #1f5f99; padding-top: .75rem; margin-top: 2rem; }
h3 { font-size: 1rem; margin: 1rem 0 .25rem; }
.muted { color: #4a5560; }
ul { padding-left: 1.25rem; margin: .25rem 0; }
li { margin: .2rem 0; }
blockquote { margin: .25rem 0; padding-left: .75rem; border-left: 3px solid #9bb7d4; }
.flag { margin: .2rem 0; }
img { max-width: 100%; height: auto; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; padding: .25rem .5rem; border-bottom: 1px solid #d5dde4; }
@media print {
  body { max-width: none; font-size: 11pt; }
  section.family { break-inside: avoid-page; }
  h2 { break-after: avoid; }
}
"""


def e(text: str) -> str:
    """Escape for HTML text and attributes."""
    return escape(text, quote=True)


def render_html(report: DigestReport, charts: Mapping[int, bytes] | None = None) -> str:
    """The whole report; ``charts`` maps family id to its PNG (families without one: none)."""
    charts = charts or {}
    title = f"Weekly digest: {period(report)}"
    parts = [
        "<!doctype html>",
        '<html lang="en"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{e(title)}</title><style>{CSS}</style></head><body>",
        f"<header><h1>{e(title)}</h1>",
        f'<p class="muted">For {e(report.practitioner)} · {len(report.families)} families · '
        f"times in {e(report.timezone)}</p></header>",
        _summary(report),
        *(_family(f, report, charts.get(f.family_id)) for f in report.families),
        '<footer class="muted"><p>This report holds families\' own words. Keep it safe and '
        "delete it when you no longer need it.</p></footer>",
        "</body></html>",
    ]
    return "\n".join(parts)


def _summary(report: DigestReport) -> str:
    rows = []
    for f in report.families:
        flags = "; ".join(e(x.text) for x in f.flags if x.severity != "note") or "Going steadily"
        mark = MARKS[f.flags[0].severity] if f.needs_attention else "🟢"
        rows.append(
            f'<tr><td>{mark} <a href="#family-{f.family_id}">{e(f.name)}</a></td>'
            f"<td>{flags}</td></tr>"
        )
    if not rows:
        return "<p>No families yet.</p>"
    return (
        '<table aria-label="Families, most urgent first"><thead><tr><th>Family</th>'
        f"<th>What needs attention</th></tr></thead><tbody>{''.join(rows)}</tbody></table>"
    )


def _family(family: FamilyDigest, report: DigestReport, png: bytes | None) -> str:
    tz = report.timezone
    out = [
        f'<section class="family" id="family-{family.family_id}">',
        f"<h2>{e(family.name)} family "
        f'<span class="muted">· {e(NATIONS.get(family.nation, family.nation))}</span></h2>',
    ]
    out += [f'<p class="flag">{MARKS[f.severity]} {e(f.text)}</p>' for f in family.flags]
    if png is not None:
        data = base64.b64encode(png).decode("ascii")
        out.append(f'<img src="data:image/png;base64,{data}" alt="{e(chart_alt(family))}">')
    out.append(_people(family, tz))
    if family.programme is not None:
        out.append(f"<p>{programme_text(family)}</p>")
    if not family.quiet:
        out += [_checkins(family, tz), _diary(family)]
        out.append(_entries("Difficult moments", family.incidents, tz))
        out.append(_entries("Boundaries", family.boundaries, tz))
        if family.learning:
            out.append(f"<h3>Learning</h3><p>{e(', '.join(family.learning))}</p>")
        out += [_children(family, tz), _chores(family)]
    out += [_circles(family, tz), _alerts(family, tz), _next_week(family), "</section>"]
    return "\n".join(p for p in out if p)


def _people(family: FamilyDigest, tz: str) -> str:
    items = []
    for m in family.members:
        seen = day(m.last_active, tz) if m.last_active else "never"
        blocked = " · <strong>blocked the bot</strong>" if not m.active else ""
        items.append(
            f"<li>{e(m.name)} ({m.role}): {m.completed} of {m.started} activities done"
            f"{f', {m.expired} left unfinished' if m.expired else ''} · last active {seen} · "
            f"{m.reminders_ignored} of {m.reminders_sent} reminders unanswered{blocked}</li>"
        )
    return "<h3>People</h3><ul>" + "".join(items) + "</ul>" if items else ""


def _quote(label: str, text: str) -> str:
    return f"<blockquote><strong>{e(label)}:</strong> {e(text)}</blockquote>"


def _checkins(family: FamilyDigest, tz: str) -> str:
    out = ["<h3>Check-in</h3>"]
    line = scale_line(family.scale)
    if line:
        out.append(f"<p>{line}</p>")  # built from numbers only
    if not family.checkins:
        out.append("<p>No check-in this week.</p>")
    for c in family.checkins:
        scale = f" · {c.scale}/10" if c.scale is not None else ""
        out.append(f'<p class="muted">{day(c.at, tz)}, {e(c.who)}{scale}</p>')
        for label, text in (
            ("Working well", c.working_well),
            ("Worries", c.worried),
            ("Needs to happen", c.needs_to_happen),
            *((quote.label, quote.text) for quote in c.more),
        ):
            if text:
                out.append(_quote(label, text))
        if c.wants_to_talk:
            out.append("<p>💬 Would like to talk with you.</p>")
    return "\n".join(out)


def _diary(family: FamilyDigest) -> str:
    d = family.diary
    if not d.entries:
        return ""
    out = [f"<h3>Diary</h3><p>{d.entries} {'entry' if d.entries == 1 else 'entries'}"]
    if d.hard_parts:
        out.append(" · hard: " + e(", ".join(f"{part} ×{n}" for part, n in d.hard_parts)))
    if d.flashpoints:
        out.append(" · tense around " + e(", ".join(d.flashpoints)))
    if d.feeling_average is not None:
        out.append(f" · felt {d.feeling_average:g} of 5 on average")
    out.append("</p>")
    out += [_quote(f"Went well ({w.label})", w.text) for w in d.went_well]
    return "".join(out)


def _entry(entry: Entry, tz: str) -> str:
    facts = f" · {e(', '.join(entry.facts))}" if entry.facts else ""
    head = f'<p class="muted">{day(entry.at, tz)}, {e(entry.who)} · {e(entry.title)}{facts}</p>'
    return head + "".join(_quote(q.label, q.text) for q in entry.quotes)


def _entries(title: str, entries: tuple[Entry, ...], tz: str) -> str:
    if not entries:
        return ""
    return f"<h3>{e(title)}</h3>" + "".join(_entry(x, tz) for x in entries)


def _children(family: FamilyDigest, tz: str) -> str:
    out = []
    for child in family.children:
        out += [_entry(x, tz) for x in child.shared]
        if child.private_count:
            out.append(f"<p>{e(child.name)} kept {child.private_count} activities private 🔒</p>")
    return "<h3>Children's words</h3>" + "".join(out) if out else ""


def _chores(family: FamilyDigest) -> str:
    items = [
        f"<li>{e(c.name)}: {c.done} of {c.agreed} done"
        f"{f', {c.a_bit} a bit' if c.a_bit else ''}"
        f"{f', {c.not_yet} not yet' if c.not_yet else ''}"
        + "".join(
            f"<br>– {e(i.text)} ({e(i.when)}): {i.done} of {i.due} days done"
            f"{f', {i.confirmed} checked by a parent' if i.confirmed else ''}"
            for i in c.items
        )
        + "</li>"
        for c in family.chores
    ]
    return "<h3>Chores</h3><ul>" + "".join(items) + "</ul>" if items else ""


def _alerts(family: FamilyDigest, tz: str) -> str:
    if not family.alerts:
        return ""
    items = [
        f"<li>{day_time(a.at, tz)}, {e(a.who)}: "
        f"{e(', '.join(c.replace('_', ' ') for c in a.categories))} · {alert_status(a, tz)}</li>"
        for a in family.alerts
    ]
    return "<h3>Safeguarding</h3><ul>" + "".join(items) + "</ul>"


def _next_week(family: FamilyDigest) -> str:
    if not family.next_week:
        return "<h3>Next week</h3><p>Nothing scheduled.</p>"
    items = [
        f"<li>{e(i.who)}: {e(i.what)}, {e(i.when)}{f' ({e(i.note)})' if i.note else ''}</li>"
        for i in family.next_week
    ]
    return "<h3>Next week</h3><ul>" + "".join(items) + "</ul>"


def _circles(family: FamilyDigest, tz: str) -> str:
    if not family.circles:
        return ""
    items = []
    for c in family.circles:
        turns = "".join(f"<li>{circle_turn(*t)}</li>" for t in c.turns)
        state = "" if c.closed else " (still open)"
        items.append(
            f"<li>{day(c.at, tz)}, {q(c.prompt)} from {e(c.starter)}{state}: "
            f"{c.answered} of {len(c.turns)} answered<ol>{turns}</ol></li>"
        )
    return "<h3>Circles</h3><ul>" + "".join(items) + "</ul>"
