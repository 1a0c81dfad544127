"""Imports flow ui -> core <- providers (docs/ARCHITECTURE.md, "Layers"); this keeps them that
way."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "desktop"

FORBIDDEN = {
    "core": ("PySide6", "qasync", "httpx", "desktop.providers", "desktop.ui", "desktop.app",
             "desktop.cli", "desktop.config", "desktop.services", "desktop.secrets"),
    "providers": ("PySide6", "qasync", "desktop.ui", "desktop.core.store", "desktop.app",
                  "desktop.cli", "desktop.services"),
    # The window reaches providers through Services and the engine, never by import.
    "ui": ("httpx", "desktop.providers"),
    # Team workers run on servers without a display.
    "team": ("PySide6", "qasync", "desktop.ui", "desktop.app"),
}


def imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
    return names


@pytest.mark.parametrize("layer", sorted(FORBIDDEN))
def test_layer_imports(layer: str) -> None:
    files = sorted((PACKAGE / layer).rglob("*.py"))
    assert files
    slips = [
        f"{path.relative_to(PACKAGE)} imports {name}"
        for path in files
        for name in imported_modules(path)
        if any(name == bad or name.startswith(bad + ".") for bad in FORBIDDEN[layer])
    ]
    assert slips == []
