"""Turn a practitioner's rows into a :class:`DigestReport`: who did what, what needs attention.

Pure: no database, no clock, no I/O. Privacy is applied here, once: an answer whose sharing
level is ``private`` is never quoted, only its run is counted.
"""

from __future__ import annotations

import json
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from datetime import datetime, timedelta
from statistics import mean
from typing import Any, TypeVar

from rpbot.digest.model import (
    AlertLine,
    Checkin,
    ChildWords,
    Chores,
    Diary,
    DigestReport,
    Entry,
    FamilyDigest,
    Flag,
    MemberLine,
    NextItem,
    Quote,
    ScaleTrend,
    Vocabulary,
)
from rpbot.scheduling.rules import Rule, RuleError
from rpbot.storage._digests import DigestRows
from rpbot.storage.tables import Answer, FlowRun, Member, SafeguardingAlert

RowT = TypeVar("RowT")
WEEK = timedelta(days=7)
CHART_WEEKS = 8
QUOTE_MAX = 280  # characters of one quote in a Telegram message (the HTML report has it all)
CHILD_FLOWS = ("three_houses", "child_reflection", "feelings_checkin")
DIARY_PARTS = {
    "morning": "mornings",
    "school_run": "the school run",
    "after_school": "after school",
    "tea": "teatime",
    "bedtime": "bedtime",
}
WORDS = {
    "working_well": "Working well",
    "worried": "Worries",
    "needs_to_happen": "Needs to happen",
    "low_step": "One small step",
    "next_point": "One point higher would look like",
    "helping_most": "Helping most",
    "went_well": "Went well",
    "what_happened": "What happened",
    "thinking": "Thinking at the time",
    "thought_since": "Thought since",
    "what_worked": "What worked",
    "affected_how": "How others were affected",
    "make_right": "Making it right",
    "next_time_words": "Next time",
    "boundary": "Boundary",
    "reason": "Why",
    "consequence": "Consequence",
    "smaller_consequence": "Smaller consequence",
    "explain": "How it will be explained",
    "good_things": "Good things",
    "good_people": "Good people",
    "worries": "Worries",
    "dreams": "Dreams",
    "family_dream": "Dream for the family",
    "thinking_then": "Thinking then",
    "how_affected": "How others felt",
    "make_right_idea": "Making it right",
    "next_time_idea": "Next time",
    "good_thing": "A good thing",
    "worry": "A worry",
}
HANDLED_FLOWS = {
    "three_questions",
    "day_in_the_life",
    "incident_reflection",
    "boundaries_and_consequences",
    "chore_checkin",
    *CHILD_FLOWS,
}


def history_start(end: datetime) -> datetime:
    """How far back the trend charts look."""
    return end - CHART_WEEKS * WEEK


def value_of(answer: Answer) -> Any:
    """An answer's stored value (None if it cannot be read)."""
    try:
        return json.loads(answer.value_json)
    except ValueError:
        return None


def shared(answer: Answer) -> bool:
    """May the practitioner read this answer? Only if it is not private."""
    return answer.share != "private"


def clip(text: str, limit: int = QUOTE_MAX) -> str:
    """Text cut to ``limit`` characters at a word boundary, with an ellipsis."""
    text = " ".join(text.split())
    if len(text) <= limit:
        return text
    cut = text[: limit - 1].rsplit(" ", 1)[0]
    return (cut or text[: limit - 1]) + "…"


class _Index:
    """Every row grouped by family once, so each family's digest reads only its own rows."""

    def __init__(self, rows: DigestRows) -> None:
        self.members = _group(rows.members, lambda m: m.family_id)
        family_of = {m.id: m.family_id for m in rows.members}
        self.runs = _group(rows.runs, lambda r: r.family_id)
        self.answers = _group(rows.answers, lambda a: a.family_id)
        self.scales = _group(rows.scale_answers, lambda a: a.family_id)
        self.reminders = _group(rows.reminders, lambda r: family_of.get(r.member_id))
        self.schedules = _group(rows.schedules, lambda s: family_of.get(s.member_id))
        self.alerts = _group(rows.alerts, lambda a: a.family_id)


def _group(rows: Iterable[RowT], key: Callable[[RowT], int | None]) -> dict[int | None, list[RowT]]:
    groups: dict[int | None, list[RowT]] = defaultdict(list)
    for row in rows:
        groups[key(row)].append(row)
    return groups


class _Family:
    """One family's rows, indexed, while its digest is built."""

    def __init__(self, family_id: int, index: _Index, start: datetime, end: datetime) -> None:
        self.start, self.end = start, end
        self.members = index.members.get(family_id, [])
        self.names = {m.id: m.display_name for m in self.members}
        self.all_runs = index.runs.get(family_id, [])
        self.runs = [r for r in self.all_runs if start <= r.started_at < end]
        self.answers = index.answers.get(family_id, [])
        self.scales = [a for a in index.scales.get(family_id, []) if shared(a)]
        self.reminders = index.reminders.get(family_id, [])
        self.schedules = index.schedules.get(family_id, [])
        self.alerts = index.alerts.get(family_id, [])
        self.by_run: dict[int, list[Answer]] = defaultdict(list)
        for answer in self.answers:
            self.by_run[answer.run_id].append(answer)

    def name(self, member_id: int | None) -> str:
        return self.names.get(member_id, "someone") if member_id is not None else "someone"

    def runs_of(self, flow_ids: Iterable[str]) -> list[int]:
        """Run ids of these flows with answers in the period, in time order."""
        wanted = set(flow_ids)
        seen: dict[int, None] = {}
        for answer in self.answers:
            if answer.flow_id in wanted:
                seen.setdefault(answer.run_id)
        return list(seen)


def build_report(
    rows: DigestRows,
    *,
    practitioner: str,
    timezone: str,
    start: datetime,
    end: datetime,
    vocabulary: Vocabulary,
) -> DigestReport:
    """The digest of every family in ``rows`` over [start, end), most urgent first."""
    week_starts = tuple(end - (CHART_WEEKS - i) * WEEK for i in range(CHART_WEEKS))
    index = _Index(rows)
    families = [
        _build_family(f.id, f.name, f.nation, index, start, end, week_starts, vocabulary)
        for f in rows.families
        if f.id is not None
    ]
    families.sort(key=lambda f: (f.rank, f.name.casefold()))
    return DigestReport(practitioner, timezone, start, end, tuple(families), week_starts)


def _build_family(
    family_id: int,
    name: str,
    nation: str,
    index: _Index,
    start: datetime,
    end: datetime,
    week_starts: Sequence[datetime],
    vocabulary: Vocabulary,
) -> FamilyDigest:
    """One family's digest."""
    fam = _Family(family_id, index, start, end)
    members = tuple(_member_line(fam, m) for m in fam.members)
    checkins = tuple(_checkins(fam))
    scale = _scale(fam, week_starts)
    children = tuple(_child_words(fam, m, vocabulary) for m in fam.members if m.role == "child")
    alerts = tuple(_alert_line(fam, a) for a in fam.alerts)
    quiet = not fam.runs and not fam.answers
    flags = _flags(fam, members, checkins, scale, alerts, quiet)
    return FamilyDigest(
        family_id=family_id,
        name=name,
        nation=nation,
        members=members,
        flags=flags,
        checkins=checkins,
        scale=scale,
        completion_weeks=_completion(fam, week_starts),
        diary=_diary(fam),
        incidents=tuple(_entries(fam, "incident_reflection", vocabulary)),
        boundaries=tuple(_entries(fam, "boundaries_and_consequences", vocabulary)),
        learning=tuple(_learning(fam, vocabulary)),
        children=tuple(c for c in children if c.shared or c.private_count),
        chores=tuple(
            c for m in fam.members if m.role == "child" if (c := _chores(fam, m)).agreed or c.done
        ),
        alerts=alerts,
        next_week=tuple(_next_week(fam, vocabulary)),
        quiet=quiet,
    )


def _member_line(fam: _Family, member: Member) -> MemberLine:
    runs = [r for r in fam.runs if r.member_id == member.id]
    status = Counter(r.status for r in runs)
    reminders = Counter(r.status for r in fam.reminders if r.member_id == member.id)
    sent = sum(reminders[s] for s in ("sent", "started", "declined", "snoozed"))
    return MemberLine(
        name=member.display_name,
        role=member.role,
        active=member.active,
        last_active=member.last_active_at,
        completed=status["completed"],
        started=len(runs),
        expired=status["expired"],
        stopped=status["stopped"],
        reminders_sent=sent,
        reminders_ignored=reminders["sent"],
        reminders_declined=reminders["declined"],
    )


def _text(answers: Iterable[Answer], name: str) -> str | None:
    for answer in answers:
        if answer.name == name and shared(answer) and answer.free_text:
            return clip(answer.free_text)
    return None


def _value(answers: Iterable[Answer], name: str) -> Any:
    for answer in answers:
        if answer.name == name and shared(answer):
            return value_of(answer)
    return None


def _checkins(fam: _Family) -> list[Checkin]:
    out = []
    for run_id in fam.runs_of(["three_questions"]):
        answers = [a for a in fam.by_run[run_id] if shared(a)]
        if not answers:
            continue
        scale = _value(answers, "safety_scale")
        talk = _value(answers, "wants_to_talk")
        more = tuple(
            Quote(WORDS[n], text)
            for n in ("low_step", "next_point", "helping_most")
            if (text := _text(answers, n))
        )
        out.append(
            Checkin(
                who=fam.name(answers[0].member_id),
                at=answers[0].created_at,
                working_well=_text(answers, "working_well"),
                worried=_text(answers, "worried"),
                needs_to_happen=_text(answers, "needs_to_happen"),
                scale=scale if isinstance(scale, int) else None,
                wants_to_talk=talk if isinstance(talk, bool) else None,
                more=more,
            )
        )
    return out


def _week_index(when: datetime, week_starts: Sequence[datetime]) -> int | None:
    for i in range(len(week_starts) - 1, -1, -1):
        if when >= week_starts[i]:
            return i if when < week_starts[i] + WEEK else None
    return None


def _scale(fam: _Family, week_starts: Sequence[datetime]) -> ScaleTrend:
    buckets: list[list[int]] = [[] for _ in week_starts]
    for answer in fam.scales:
        value = value_of(answer)
        index = _week_index(answer.created_at, week_starts)
        if isinstance(value, int) and index is not None:
            buckets[index].append(value)
    weeks = tuple(round(mean(b), 1) if b else None for b in buckets)
    now = weeks[-1] if weeks else None
    previous, ago = None, None
    for back, value in enumerate(reversed(weeks[:-1]), start=1):
        if value is not None:
            previous, ago = value, back
            break
    return ScaleTrend(now, previous, ago, weeks)


def _completion(fam: _Family, week_starts: Sequence[datetime]) -> tuple[tuple[int, int], ...]:
    counts = [[0, 0] for _ in week_starts]
    for run in fam.all_runs:
        index = _week_index(run.started_at, week_starts)
        if index is not None:
            counts[index][1] += 1
            counts[index][0] += run.status == "completed"
    return tuple((done, started) for done, started in counts)


def _diary(fam: _Family) -> Diary:
    runs = fam.runs_of(["day_in_the_life"])
    answers = [a for run in runs for a in fam.by_run[run] if shared(a)]
    hard = Counter(
        DIARY_PARTS[a.name] for a in answers if a.name in DIARY_PARTS and value_of(a) == "hard"
    )
    flashpoints = sorted(
        str(v) for a in answers if a.name == "flashpoint" and isinstance(v := value_of(a), str)
    )
    went_well = [
        Quote(fam.name(a.member_id), clip(a.free_text))
        for a in answers
        if a.name == "went_well" and a.free_text
    ]
    feelings = [v for a in answers if a.name == "feeling" and isinstance(v := value_of(a), int)]
    return Diary(
        entries=len({a.run_id for a in answers}),
        hard_parts=tuple(sorted(hard.items(), key=lambda kv: (-kv[1], kv[0]))),
        flashpoints=tuple(flashpoints),
        went_well=tuple(went_well[-3:]),
        feeling_average=round(mean(feelings), 1) if feelings else None,
    )


def _entry(fam: _Family, answers: list[Answer], vocabulary: Vocabulary) -> Entry:
    quotes, facts = [], []
    for answer in answers:
        if answer.free_text and answer.name in WORDS:
            quotes.append(Quote(WORDS[answer.name], clip(answer.free_text)))
        elif answer.ask_type == "choice" and answer.name in ("area", "review", "which_chore"):
            facts.append(vocabulary.label(answer.flow_id, answer.name, str(value_of(answer))))
    return Entry(
        who=fam.name(answers[0].member_id),
        at=answers[0].created_at,
        title=vocabulary.title(answers[0].flow_id),
        quotes=tuple(quotes),
        facts=tuple(facts),
    )


def _entries(fam: _Family, flow_id: str, vocabulary: Vocabulary) -> list[Entry]:
    out = []
    for run_id in fam.runs_of([flow_id]):
        answers = [a for a in fam.by_run[run_id] if shared(a)]
        if answers:
            out.append(_entry(fam, answers, vocabulary))
    return out


def _learning(fam: _Family, vocabulary: Vocabulary) -> list[str]:
    done = [r for r in fam.runs if r.status == "completed" and r.flow_id not in HANDLED_FLOWS]
    return [f"{vocabulary.title(r.flow_id)} ({fam.name(r.member_id)})" for r in done]


def _child_words(fam: _Family, child: Member, vocabulary: Vocabulary) -> ChildWords:
    runs: list[FlowRun] = [
        r for r in fam.runs if r.member_id == child.id and r.flow_id in CHILD_FLOWS
    ]
    shared_entries, private = [], 0
    for run in runs:
        answers = [a for a in fam.by_run.get(run.id or 0, []) if shared(a)]
        if answers:
            shared_entries.append(_entry(fam, answers, vocabulary))
        elif run.status != "active" or fam.by_run.get(run.id or 0):
            private += 1
    return ChildWords(child.display_name, tuple(shared_entries), private)


def _chores(fam: _Family, child: Member) -> Chores:
    agreed = sum(
        1 for r in fam.reminders if r.member_id == child.id and r.flow_id == "chore_checkin"
    )
    did = Counter(
        value_of(a)
        for a in fam.answers
        if a.member_id == child.id and a.flow_id == "chore_checkin" and a.name == "did_it"
        if shared(a)
    )
    return Chores(child.display_name, agreed, did["yes"], did["a_bit"], did["not_yet"])


def _alert_line(fam: _Family, alert: SafeguardingAlert) -> AlertLine:
    who = fam.name(alert.member_id) if alert.member_id is not None else "a person since erased"
    return AlertLine(
        at=alert.created_at,
        who=who,
        categories=tuple(c for c in alert.categories.split(",") if c),
        status=alert.status,
        acknowledged_at=alert.acknowledged_at,
        action=alert.acknowledged_action,
    )


def _next_week(fam: _Family, vocabulary: Vocabulary) -> list[NextItem]:
    out = []
    active = {m.id: m.active for m in fam.members}
    for schedule in fam.schedules:
        try:
            when = Rule.parse(schedule.days, schedule.time_of_day).describe()
        except RuleError:
            when = f"{schedule.days or 'daily'} {schedule.time_of_day}"
        note = ""
        if not active.get(schedule.member_id, True):
            note = "not sent: blocked the bot"
        elif schedule.paused_until is not None and schedule.paused_until > fam.end:
            note = "paused"
        out.append(
            NextItem(fam.name(schedule.member_id), vocabulary.title(schedule.flow_id), when, note)
        )
    return out


def _flags(
    fam: _Family,
    members: Sequence[MemberLine],
    checkins: Sequence[Checkin],
    scale: ScaleTrend,
    alerts: Sequence[AlertLine],
    quiet: bool,
) -> tuple[Flag, ...]:
    flags: list[Flag] = []
    open_alerts = sum(1 for a in alerts if a.status == "open")
    if open_alerts:
        noun = "alert" if open_alerts == 1 else "alerts"
        flags.append(Flag("urgent", f"{open_alerts} safeguarding {noun} not yet acknowledged"))
    if len(alerts) > open_alerts:
        flags.append(Flag("attention", "Safeguarding alert this week (acknowledged)"))
    flags += [
        Flag("attention", f"{m.name} has blocked the bot: nothing reaches them")
        for m in members
        if not m.active
    ]
    if scale.now is not None and scale.now <= 3:
        flags.append(Flag("attention", f"Scale is low: {number_text(scale.now)}/10"))
    change = scale.change
    was, now = number_text(scale.previous), number_text(scale.now)
    if change is not None and change <= -2:
        flags.append(Flag("attention", f"Scale dropped {was} → {now}"))
    talk = sorted({c.who for c in checkins if c.wants_to_talk})
    flags += [Flag("attention", f"{who} would like to talk with you") for who in talk]
    if quiet:
        flags.append(Flag("attention", "No activity this week"))
    flags += [
        Flag("note", f"{m.name} left {m.reminders_ignored} reminders unanswered")
        for m in members
        if m.active and m.reminders_ignored >= 3
    ]
    if change is not None and change >= 2:
        flags.append(Flag("note", f"Scale up {was} → {now} 🌟"))
    return tuple(flags)


def number_text(value: float | None) -> str:
    """3.0 → "3", 3.5 → "3.5", None → "?"."""
    if value is None:
        return "?"
    return str(int(value)) if float(value).is_integer() else f"{value:.1f}"
