"""The engine stays pure: no transport, database, scheduler, event loop, OS or network imports.

Every ``.py`` under ``rpbot/engine`` is parsed with ``ast`` (never imported), so an import
hidden in a function or behind ``TYPE_CHECKING`` counts too.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ENGINE = Path(__file__).resolve().parents[1] / "rpbot" / "engine"
PACKAGE = "rpbot.engine"

#: Top-level modules the engine must never import.
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
    }
)


def module_name(path: Path, root: Path = ENGINE, package: str = PACKAGE) -> str:
    """The dotted module name of a file under ``root`` (``__init__`` names its package)."""
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join([package, *parts])


def imported_modules(source: str, module: str, *, is_package: bool = False) -> set[str]:
    """Every module ``source`` imports, with relative imports resolved against ``module``.

    ``from x import y`` yields both ``x`` and ``x.y`` (``y`` may be a submodule), except that
    ``from rpbot import engine`` yields only ``rpbot.engine``: the bare parent package is not an
    import of anything outside the engine, whereas ``import rpbot`` is.
    """
    found: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                package = module if is_package else module.rpartition(".")[0]
                parts = package.split(".")
                if node.level - 1 >= len(parts):
                    found.add("." * node.level + base)  # beyond the top: report it as is
                    continue
                anchor = parts[: len(parts) - (node.level - 1)]
                base = ".".join([*anchor, base] if base else anchor)
            if base != PACKAGE.rpartition(".")[0]:
                found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return found


def is_forbidden(name: str, package: str = PACKAGE, forbidden: frozenset[str] = FORBIDDEN) -> bool:
    """True for the ``forbidden`` modules (and their submodules) and any rpbot module outside
    ``package`` (the engine by default)."""
    top = name.split(".")[0]
    if top in forbidden or name.startswith("."):
        return True
    if top == "rpbot":
        return name != package and not name.startswith(package + ".")
    return False


def violations(
    source: str,
    module: str,
    *,
    is_package: bool = False,
    package: str = PACKAGE,
    forbidden: frozenset[str] = FORBIDDEN,
) -> list[str]:
    """The forbidden imports of one module's source, sorted."""
    names = imported_modules(source, module, is_package=is_package)
    return sorted(n for n in names if is_forbidden(n, package, forbidden))


def engine_files() -> list[Path]:
    return sorted(ENGINE.rglob("*.py"))


def test_the_engine_files_are_found() -> None:
    files = engine_files()
    assert len(files) >= 10
    names = {f.name for f in files}
    assert {"__init__.py", "runner.py", "answers.py", "session.py"} <= names
    # The walk sees real imports (so an empty result below would not be vacuous).
    runner = ENGINE / "runner.py"
    seen = imported_modules(runner.read_text(encoding="utf-8"), module_name(runner))
    assert "rpbot.engine.answers" in seen
    assert "datetime" in seen


@pytest.mark.parametrize("path", engine_files(), ids=lambda p: p.name)
def test_the_engine_imports_nothing_impure(path: Path) -> None:
    source = path.read_text(encoding="utf-8")
    found = violations(source, module_name(path), is_package=path.name == "__init__.py")
    assert found == [], f"{path.name} imports {found}; the engine must stay pure"


BAD_SOURCE = """
import os
import os.path as osp
import json
from asyncio import sleep
import telegram.ext
from sqlmodel import Session
import sqlalchemy.orm, httpx
from aiohttp import web
import subprocess
from socket import socket
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from rpbot import cli
import rpbot.storage.tables
from .. import services
from ..storage import tables
from . import answers
from .model import Flow
from rpbot.engine.session import Session as S
import pydantic

def later():
    import os as hidden
"""


def test_the_checker_reports_forbidden_imports() -> None:
    found = violations(BAD_SOURCE, "rpbot.engine.example")
    assert found == sorted(
        {
            "os",
            "os.path",
            "asyncio",
            "asyncio.sleep",
            "telegram.ext",
            "sqlmodel",
            "sqlmodel.Session",
            "sqlalchemy.orm",
            "httpx",
            "aiohttp",
            "aiohttp.web",
            "subprocess",
            "socket",
            "socket.socket",
            "apscheduler.schedulers.asyncio",
            "apscheduler.schedulers.asyncio.AsyncIOScheduler",
            "rpbot.cli",
            "rpbot.storage.tables",
            "rpbot.services",
            "rpbot.storage",
        }
    )


@pytest.mark.parametrize(
    ("source", "expected"),
    [
        ("import os", ["os"]),
        ("def f():\n    import os\n", ["os"]),
        ("from os import environ", ["os", "os.environ"]),
        ("import rpbot", ["rpbot"]),
        ("from rpbot import engine", []),
        ("from rpbot.engine import runner", []),
        ("from . import runner", []),
        ("from .. import engine", []),
        ("from .. import clock", ["rpbot.clock"]),
        ("from ..storage.tables import Run", ["rpbot.storage.tables", "rpbot.storage.tables.Run"]),
        ("from ...x import y", ["...x"]),
        ("import osmium", []),
        ("import json, re, unicodedata, zoneinfo", []),
    ],
)
def test_the_checker_on_single_imports(source: str, expected: list[str]) -> None:
    assert violations(source, "rpbot.engine.example") == expected


def test_relative_imports_from_a_subpackage() -> None:
    module = "rpbot.engine.sub.example"
    assert violations("from .. import clock", module) == []  # rpbot.engine.clock
    assert violations("from ... import clock", module) == ["rpbot.clock"]


def test_relative_imports_in_a_package_init() -> None:
    # In rpbot/engine/__init__.py, "from . import x" means rpbot.engine.x, ".." means rpbot.
    assert violations("from . import runner", PACKAGE, is_package=True) == []
    assert violations("from .. import cli", PACKAGE, is_package=True) == ["rpbot.cli"]
