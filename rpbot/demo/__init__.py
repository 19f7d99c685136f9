"""Demo data: realistic, deterministic families and answers made through the real services.

``rpbot demo seed`` (see :mod:`rpbot.cli_demo`) and :func:`seed_demo` fill a database for
previews, the sandbox and benchmarks. Everything is made up from ``answers.yaml``.
"""

from rpbot.demo.seed import DemoError, DemoSummary, FamilySummary, seed_demo

__all__ = ["DemoError", "DemoSummary", "FamilySummary", "seed_demo"]
