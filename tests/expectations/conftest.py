"""Fixtures for the gate and loader tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest


@pytest.fixture
def suites_dir(tmp_path: Path) -> Callable[[str, str], Path]:
    """Write a suite YAML into a private folder and return the folder, for loader and gate tests."""

    def write(name: str, text: str) -> Path:
        (tmp_path / f"{name}.yaml").write_text(text, encoding="utf-8")
        return tmp_path

    return write
