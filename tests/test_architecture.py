"""The rules docs/architecture.md states: core imports nothing above it (no product, no web);
products never import each other; no router imports another router; source files stay
small; and every table declares its data category and tenancy."""

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


def _module(path: Path) -> str:
    return ".".join(("teamspro", *path.relative_to(SRC).with_suffix("").parts))


def test_core_imports_no_product_and_products_stay_apart() -> None:
    files = list(SRC.rglob("*.py"))
    assert files
    for path in files:
        module = _module(path)
        imported = _imports(path)
        if module.startswith("teamspro.core"):
            bad = [m for m in imported if m.startswith((*PRODUCTS, "teamspro.web"))]
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


def _is_router(path: Path) -> bool:
    """A module that declares routes (a module-level ``... = APIRouter(...)``)."""
    for node in ast.parse(path.read_text()).body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Call):
            func = node.value.func
            if isinstance(func, ast.Name) and func.id == "APIRouter":
                return True
    return False


def test_no_router_imports_another_router() -> None:
    """Routes stay thin: what two routers share lives in a service or helper module."""
    routers = {_module(p) for p in SRC.rglob("*.py") if _is_router(p)}
    assert len(routers) > 20, routers
    for path in SRC.rglob("*.py"):
        module = _module(path)
        if module not in routers:
            continue
        imported = {m for m in _imports(path) if m in routers and m != module}
        # "from teamspro.gpt.knowledge import sources_api" names the package, not the module
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported |= {f"{node.module}.{a.name}" for a in node.names} & routers
        assert not imported, f"{module} imports the router(s) {sorted(imported)}"


MAX_LINES = 450


def test_source_files_stay_small() -> None:
    """Migrations are history (applied as written, never edited), so only they may be long."""
    sizes = {
        str(p.relative_to(SRC)): len(p.read_text().splitlines())
        for p in SRC.rglob("*.py")
        if "migrations" not in p.parts
    }
    assert len(sizes) > 150, len(sizes)
    over = {path: n for path, n in sizes.items() if n > MAX_LINES}
    assert not over, f"over {MAX_LINES} lines: {over}"
