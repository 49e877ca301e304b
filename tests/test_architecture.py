"""The import direction ARCHITECTURE.md sets: core imports no product; products never import
each other; and every table declares its data category and tenancy."""

from __future__ import annotations

import ast
from pathlib import Path

from teamspro import models  # noqa: F401
from teamspro.core.db import Base, TenantMixin

SRC = Path(__file__).resolve().parents[1] / "src" / "teamspro"
PRODUCTS = ("teamspro.gpt", "teamspro.images")


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(a.name for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def test_core_imports_no_product_and_products_stay_apart() -> None:
    files = list(SRC.rglob("*.py"))
    assert files
    for path in files:
        module = ".".join(("teamspro", *path.relative_to(SRC).with_suffix("").parts))
        imported = _imports(path)
        if module.startswith("teamspro.core"):
            bad = [m for m in imported if m.startswith((*PRODUCTS, "teamspro.web.pages"))]
            assert not bad, f"{module} imports {bad}"
        for product, other in ((PRODUCTS[0], PRODUCTS[1]), (PRODUCTS[1], PRODUCTS[0])):
            if module.startswith(product):
                assert not [m for m in imported if m.startswith(other)], module


def test_every_table_declares_category_and_tenancy() -> None:
    for mapper in Base.registry.mappers:
        cls = mapper.class_
        assert cls.__dict__.get("__data_category__"), f"{cls.__name__} lacks __data_category__"
        if cls.__tablename__ != "organization":
            assert issubclass(cls, TenantMixin), f"{cls.__name__} must carry org_id"
