"""Every table of every domain, imported once for Alembic and for table discovery."""

from teamspro.core.identity.models import ApiToken, LoginLink, User, UserSession
from teamspro.core.tenancy.models import Membership, Organization
from teamspro.gpt.bot.models import Bot, BotAccess
from teamspro.gpt.conversation.models import Conversation, Feedback, Message
from teamspro.gpt.knowledge.models import KnowledgeChunk, KnowledgeDocument
from teamspro.gpt.provider.models import ModelProvider

__all__ = [
    "ApiToken",
    "Bot",
    "BotAccess",
    "Conversation",
    "Feedback",
    "KnowledgeChunk",
    "KnowledgeDocument",
    "LoginLink",
    "Membership",
    "Message",
    "ModelProvider",
    "Organization",
    "User",
    "UserSession",
]
