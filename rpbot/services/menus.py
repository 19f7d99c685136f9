"""What each role is offered: the menu buttons and the command list."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from dataclasses import dataclass

from rpbot.engine import Library
from rpbot.engine.text import pick_language
from rpbot.services.callbacks import menu_data
from rpbot.services.outbox import OutButton, layout

LEARN = "learn"


@dataclass(frozen=True, slots=True)
class MenuItem:
    """A menu entry: its button label, the command that opens it, and the flow (or submenu)."""

    label: str
    command: str
    target: str
    description: str


PARENT_MENU = (
    MenuItem("📔 Diary", "diary", "day_in_the_life", "Day in the Life diary"),
    MenuItem("🧭 Check-in", "checkin", "three_questions", "Three-question check-in"),
    MenuItem("💭 Reflect", "reflect", "incident_reflection", "Reflect on a difficult moment"),
    MenuItem("🚧 Boundaries", "boundaries", "boundaries_and_consequences", "Plan a boundary"),
    MenuItem("📚 Learn", "learn", LEARN, "Short learning modules"),
    MenuItem("⚖️ The law", "law", "physical_punishment_law", "The law on physical punishment"),
    MenuItem("🧹 Chores", "chores", "household_agreement", "Chores and household agreement"),
)
CHILD_MENU = (
    MenuItem("🏠 Three houses", "houses", "three_houses", "The three houses"),
    MenuItem("😊 How I feel", "feelings", "feelings_checkin", "How are you feeling?"),
    MenuItem(
        "💭 Think it over", "reflect", "child_reflection", "Think about something that happened"
    ),
    MenuItem("🧹 Chores", "chores", "chore_checkin", "Tell us about a chore"),
)
LEARNING_MODULES = (
    "recognising_challenges",
    "parenting_styles",
    "child_development",
    "fair_process",
    "circles",
    "rituals",
    "family_group_conferencing",
    "reaching_agreements",
)
COMMON_COMMANDS = (
    ("menu", "Show the menu"),
    ("reminders", "Your reminders: times, pause, resume"),
    ("help", "How this works"),
    ("stop", "Stop what you're doing (answers are kept)"),
    ("mydata", "A copy of everything kept about you"),
    ("forget", "Delete your data"),
)
PRACTITIONER_COMMANDS = (
    ("families", "Your families"),
    ("family", "One family: members and last activity"),
    ("newfamily", "Add a family"),
    ("invite", "Invite a parent or child"),
    ("schedule", "Reminders for a family member"),
    ("digest", "This week's digest, now"),
    ("digestsettings", "When your weekly digest comes"),
    ("mydata", "What the bot keeps about you"),
    ("help", "How this works"),
)
#: Circles and programme plans (issue 8), added to the roles' command menus by commands_for.
PROGRAMME_COMMANDS = {
    "parent": (
        ("circle", "Start a family circle"),
        ("agreement", "Our household agreement"),
    ),
    "child": (("agreement", "Our family agreement"),),
    "practitioner": (
        ("circle", "Start a circle with a family"),
        ("plan", "A family's programme plan"),
        ("agreement", "A family's household agreement"),
    ),
}


def menu_for(role: str) -> tuple[MenuItem, ...]:
    """The menu items for a parent or a child."""
    return CHILD_MENU if role == "child" else PARENT_MENU


def commands_for(role: str) -> list[tuple[str, str]]:
    """The command list shown in Telegram's menu for this role."""
    extra = list(PROGRAMME_COMMANDS.get(role, ()))
    if role == "practitioner":
        return list(PRACTITIONER_COMMANDS) + extra
    items = [(item.command, item.description) for item in menu_for(role)]
    return items + extra + list(COMMON_COMMANDS)


def menu_buttons(role: str, hidden: Collection[str] = ()) -> list[list[OutButton]]:
    """The role's menu as button rows (``hidden``: flows switched off in the member's plan)."""
    return layout(
        [
            OutButton(item.label, menu_data(item.target))
            for item in menu_for(role)
            if item.target not in hidden
        ]
    )


def learning_buttons(
    library: Library,
    language: str = "en",
    modules: Sequence[str] | None = None,
    current: str | None = None,
) -> list[list[OutButton]]:
    """One button per learning module, in programme order (``modules``: the family's plan
    order; ``current``: this week's module, shown first and marked)."""
    order = list(LEARNING_MODULES if modules is None else modules)
    if current in order:
        order.remove(current)
        order.insert(0, current)
    buttons = [
        OutButton(
            ("⭐ This week: " if m == current else "") + pick_language(library[m].title, language),
            menu_data(m),
        )
        for m in order
        if m in library
    ]
    return [[b] for b in buttons]


def flow_for_command(role: str, command: str) -> str | None:
    """The flow (or submenu) a command like /diary opens for this role."""
    for item in menu_for(role):
        if item.command == command:
            return item.target
    return None


def allowed_targets(role: str) -> set[str]:
    """Flows a member of this role may start from the menu."""
    targets = {item.target for item in menu_for(role)}
    if role == "parent":
        targets |= set(LEARNING_MODULES) | {"chore_confirm"}
    return targets
