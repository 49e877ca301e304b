"""Where the products plug into the platform: their routers and their job modules.

The only module that imports every domain, so that ``core`` never imports a product.
"""

from __future__ import annotations

import importlib

from fastapi import APIRouter

# Modules that register background work: jobs, and each product's part of a purge, an
# erasure and an export (its data module).
JOB_MODULES = [
    "teamspro.core.audit.jobs",
    "teamspro.core.privacy.jobs",
    "teamspro.core.tenancy.jobs",
    "teamspro.gpt.knowledge.jobs",
    "teamspro.gpt.data",
    "teamspro.images.image.jobs",
    "teamspro.images.library.jobs",
    "teamspro.images.data",
]


def routers() -> list[APIRouter]:
    from teamspro.core import health
    from teamspro.core.audit import api as audit_api
    from teamspro.core.audit import pages as audit_pages
    from teamspro.core.graph import api as graph_api
    from teamspro.core.i18n import pages as i18n_pages
    from teamspro.core.identity import api as identity_api
    from teamspro.core.identity import pages as identity_pages
    from teamspro.core.privacy import api as privacy_api
    from teamspro.core.privacy import pages as privacy_pages
    from teamspro.core.tenancy import api as tenancy_api
    from teamspro.core.tenancy import pages as tenancy_pages
    from teamspro.gpt.bot import api as bot_api
    from teamspro.gpt.bot import pages as bot_pages
    from teamspro.gpt.chat import api as chat_api
    from teamspro.gpt.chat import openai_api
    from teamspro.gpt.chat import pages as chat_pages
    from teamspro.gpt.conversation import api as conversation_api
    from teamspro.gpt.knowledge import api as knowledge_api
    from teamspro.gpt.knowledge import pages as knowledge_pages
    from teamspro.gpt.knowledge import sources_api
    from teamspro.gpt.plugins import api as plugin_api
    from teamspro.gpt.plugins import pages as plugin_pages
    from teamspro.gpt.provider import api as provider_api
    from teamspro.gpt.teams import api as teams_api
    from teamspro.gpt.teams import pages as teams_pages
    from teamspro.images.image import api as images_api
    from teamspro.images.image import pages as images_pages
    from teamspro.images.library import api as library_api
    from teamspro.images.tab import api as tabs_api
    from teamspro.images.tab import pages as tab_pages
    from teamspro.images.teams import api as images_teams_api
    from teamspro.web import docs as web_docs
    from teamspro.web import pages as web_pages

    return [
        health.router,
        i18n_pages.router,
        audit_api.router,
        audit_pages.router,
        identity_api.router,
        graph_api.router,
        tenancy_api.router,
        bot_api.router,
        provider_api.router,
        plugin_api.router,
        conversation_api.router,
        chat_api.router,
        openai_api.router,
        teams_api.router,
        teams_pages.router,
        bot_pages.router,
        plugin_pages.router,
        chat_pages.router,
        knowledge_api.router,
        sources_api.router,
        knowledge_pages.router,
        tabs_api.router,
        library_api.router,
        images_api.router,
        images_api.files_router,
        tab_pages.router,
        images_teams_api.router,
        images_pages.router,
        identity_pages.router,
        privacy_pages.router,
        privacy_api.router,
        tenancy_pages.router,
        web_pages.router,
        web_docs.router,
    ]


def load_jobs() -> None:
    # Every mapped table, so that jobs working across tables (an organisation purge) see all.
    importlib.import_module("teamspro.models")
    for name in JOB_MODULES:
        importlib.import_module(name)
