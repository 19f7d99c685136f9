"""UK facts stated to families (law per nation, helplines), loaded from ``dialogues/facts.yaml``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator

from rpbot.engine.model import Strict

Nation = Literal["england", "wales", "scotland", "northern_ireland"]
NATIONS: tuple[Nation, ...] = ("england", "wales", "scotland", "northern_ireland")


class NationLaw(Strict):
    """The law on physical punishment of children in one nation."""

    name: str
    summary: str
    allowed: str
    never: str
    act: str
    since: str
    full_ban: bool


class Signpost(Strict):
    """A helpline: who it is for and its number."""

    name: str
    number: str = Field(pattern=r"^[0-9 ]+$")

    def __str__(self) -> str:
        return f"{self.name}: {self.number}"


class Facts(Strict):
    """Everything in ``facts.yaml``."""

    law: dict[Nation, NationLaw]
    signposts: dict[str, Signpost]

    @model_validator(mode="after")
    def _every_nation(self) -> Facts:
        missing = [n for n in NATIONS if n not in self.law]
        if missing:
            raise ValueError(f"law is missing {', '.join(missing)}; add an entry for each nation")
        return self


LAW_FIELDS = frozenset(NationLaw.model_fields) - {"full_ban"}
