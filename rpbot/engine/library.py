"""A validated set of flows plus the facts they refer to."""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field

from rpbot.engine.facts import Facts
from rpbot.engine.model import Flow


@dataclass(frozen=True)
class Library(Mapping[str, Flow]):
    """Flows by id (sub-flows are looked up here), the facts, and where each flow came from."""

    flows: dict[str, Flow]
    facts: Facts | None
    sources: dict[str, str] = field(default_factory=dict)

    def __getitem__(self, flow_id: str) -> Flow:
        return self.flows[flow_id]

    def __iter__(self) -> Iterator[str]:
        return iter(self.flows)

    def __len__(self) -> int:
        return len(self.flows)

    def for_audience(self, audience: str) -> list[Flow]:
        """Flows written for ``audience``, in id order."""
        return sorted(
            (f for f in self.flows.values() if f.audience == audience), key=lambda f: f.id
        )
