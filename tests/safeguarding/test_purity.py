"""The safeguarding screener stays pure, like the engine (see tests/test_architecture.py).

Every ``.py`` under ``rpbot/safeguarding`` is parsed with ``ast`` (never imported), so an import
hidden in a function or behind ``TYPE_CHECKING`` counts too. Besides the engine's list, logging
is forbidden: the screener must never record what people write.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import test_architecture as architecture  # the same import walker as the engine

PACKAGE_DIR = Path(__file__).resolve().parents[2] / "rpbot" / "safeguarding"
PACKAGE = "rpbot.safeguarding"

#: Top-level modules the screener must never import.
FORBIDDEN = frozenset(
    {
        "telegram",
        "sqlmodel",
        "sqlalchemy",
        "apscheduler",
        "asyncio",
        "os",
        "aiohttp",
        "httpx",
        "subprocess",
        "socket",
        "logging",
    }
)


def module_name(path: Path) -> str:
    """The dotted module name of a file in the package (``__init__`` names the package)."""
    return architecture.module_name(path, PACKAGE_DIR, PACKAGE)


def violations(source: str, module: str, *, is_package: bool = False) -> list[str]:
    """The forbidden imports of one module's source, sorted (the engine's checker, with this
    package and its list)."""
    return architecture.violations(
        source, module, is_package=is_package, package=PACKAGE, forbidden=FORBIDDEN
    )


def package_files() -> list[Path]:
    return sorted(PACKAGE_DIR.rglob("*.py"))


def test_the_package_files_are_found() -> None:
    names = {f.name for f in package_files()}
    assert {"__init__.py", "screener.py", "normalise.py", "rules.py", "compiler.py"} <= names
    screener = PACKAGE_DIR / "screener.py"
    source = screener.read_text(encoding="utf-8")
    seen = architecture.imported_modules(source, module_name(screener))
    assert "rpbot.safeguarding.normalise" in seen  # the walk sees real imports
    assert "re" in seen


@pytest.mark.parametrize("path", package_files(), ids=lambda p: p.name)
def test_the_screener_imports_nothing_impure(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    found = violations(source, module_name(path), is_package=path.name == "__init__.py")
    assert found == [], f"{path.name} imports {found}; the screener must stay pure"


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import os", ["os"]),
        ("def f():\n    import logging\n", ["logging"]),
        ("from asyncio import sleep", ["asyncio", "asyncio.sleep"]),
        ("import telegram.ext", ["telegram.ext"]),
        ("from sqlalchemy import select", ["sqlalchemy", "sqlalchemy.select"]),
        ("from sqlmodel import Session", ["sqlmodel", "sqlmodel.Session"]),
        ("import rpbot", ["rpbot"]),
        ("from rpbot import engine", ["rpbot.engine"]),
        ("from rpbot import safeguarding", []),
        ("from rpbot.safeguarding import rules", []),
        ("from . import screener", []),
        ("from .. import clock", ["rpbot.clock"]),
        ("from ...x import y", ["...x"]),
        ("import re, unicodedata, yaml, pydantic", []),
    ],
)
def test_the_checker_on_single_imports(source: str, expected: list[str]) -> None:
    assert violations(source, "rpbot.safeguarding.example") == expected
