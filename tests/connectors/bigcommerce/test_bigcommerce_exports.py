"""The package surface: `__all__` lists exactly what exists, and the client loads without Prefect."""

from __future__ import annotations

import importlib
import subprocess
import sys
from pathlib import Path

import pytest

import connectors.bigcommerce as package

MODULES = ["batches", "block", "client", "errors", "models", "pagination", "settings"]


@pytest.mark.parametrize("name", ["connectors.bigcommerce", *(f"connectors.bigcommerce.{m}" for m in MODULES)])
def test_every_name_in_all_exists(name):
    module = importlib.import_module(name)

    assert sorted(module.__all__) == sorted(set(module.__all__))
    assert [n for n in module.__all__ if not hasattr(module, n)] == []


def test_package_exports_the_client_and_every_public_model():
    from connectors.bigcommerce import models

    assert "BigCommerceClient" in package.__all__
    assert {n for n in models.__all__ if n[0].isupper()} - set(package.__all__) == set()


def test_client_and_models_do_not_import_prefect():
    code = "import sys, connectors.bigcommerce; print('prefect' in sys.modules)"
    root = Path(__file__).resolve().parents[3]
    out = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, check=True)

    assert out.stdout.strip() == "False"
