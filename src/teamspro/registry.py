"""Where the products plug into the platform: their routers and their job modules.

The only module that imports every domain, so that ``core`` never imports a product.
"""

from __future__ import annotations

import importlib

from fastapi import APIRouter

JOB_MODULES = ["teamspro.core.tenancy.jobs"]


def routers() -> list[APIRouter]:
    from teamspro.core import health
    from teamspro.core.identity import api as identity_api
    from teamspro.core.identity import pages as identity_pages
    from teamspro.core.tenancy import api as tenancy_api
    from teamspro.core.tenancy import pages as tenancy_pages
    from teamspro.web import pages as web_pages

    return [
        health.router,
        identity_api.router,
        tenancy_api.router,
        identity_pages.router,
        tenancy_pages.router,
        web_pages.router,
    ]


def load_jobs() -> None:
    for name in JOB_MODULES:
        importlib.import_module(name)
