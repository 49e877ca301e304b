"""Every table of every domain, imported once for Alembic and for table discovery."""

from teamspro.core.audit.models import AuditEvent
from teamspro.core.identity.models import ApiToken, LoginLink, User, UserSession
from teamspro.core.privacy.models import DataExport
from teamspro.core.tenancy.models import Membership, Organization
from teamspro.gpt.bot.models import Bot, BotAccess
from teamspro.gpt.conversation.models import Conversation, Feedback, Message
from teamspro.gpt.knowledge.models import (
    KnowledgeChunk,
    KnowledgeDocument,
    KnowledgeFingerprint,
)
from teamspro.gpt.plugins.models import Plugin
from teamspro.gpt.provider.models import ModelProvider
from teamspro.gpt.teams.models import TeamsChat
from teamspro.images.image.models import Image, ImageColor, ImageTag, ImageVersion, Rendition
from teamspro.images.library.models import ImageLibrary
from teamspro.images.tab.models import PinEvent, TabConfig

__all__ = [
    "ApiToken",
    "AuditEvent",
    "Bot",
    "BotAccess",
    "Conversation",
    "DataExport",
    "Feedback",
    "Image",
    "ImageColor",
    "ImageLibrary",
    "ImageTag",
    "ImageVersion",
    "KnowledgeChunk",
    "KnowledgeDocument",
    "KnowledgeFingerprint",
    "LoginLink",
    "Membership",
    "Message",
    "ModelProvider",
    "Organization",
    "PinEvent",
    "Plugin",
    "Rendition",
    "TabConfig",
    "TeamsChat",
    "User",
    "UserSession",
]
