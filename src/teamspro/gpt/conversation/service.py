"""Conversations belong to one person: every read and write checks the owner and the org."""

from __future__ import annotations

import json
import re
import uuid
from typing import Any

from sqlalchemy import Select, func, or_, select
from sqlalchemy.ext.asyncio import AsyncSession

from teamspro.core import odata
from teamspro.core.errors import InvalidInput, NotFound
from teamspro.core.identity.models import User
from teamspro.core.identity.service import Principal
from teamspro.gpt.conversation.models import Conversation, Feedback, Message, MessageStatus, Role

HIDDEN = (MessageStatus.superseded,)
FIELDS = ["title", "bot_id", "channel", "created_at", "updated_at"]


def own_stmt(principal: Principal, *, search: str = "") -> Select[Conversation]:
    """The caller's conversations; a search matches titles and message text."""
    stmt = select(Conversation).where(
        Conversation.org_id == principal.org.id, Conversation.user_id == principal.user.id
    )
    if search := search.strip():
        pattern = f"%{search.lower()}%"
        in_messages = select(Message.conversation_id).where(
            Message.org_id == principal.org.id,
            Message.user_id == principal.user.id,
            func.lower(Message.content).like(pattern),
        )
        stmt = stmt.where(
            or_(func.lower(Conversation.title).like(pattern), Conversation.id.in_(in_messages))
        )
    return stmt


async def list_own(
    *, session: AsyncSession, principal: Principal, query: odata.ODataQuery, search: str = ""
) -> tuple[list[Conversation], int | None]:
    """A page of the caller's conversations, newest first unless $orderby says otherwise."""
    if not query.orderby:
        query.orderby = [("updated_at", True)]
    return await odata.page(session, own_stmt(principal, search=search), Conversation, query)


async def get_own(
    *, session: AsyncSession, principal: Principal, conversation_id: uuid.UUID
) -> Conversation:
    """One of the caller's conversations; anyone else's is 'not found'."""
    conv = await session.get(Conversation, conversation_id)
    if conv is None or conv.org_id != principal.org.id or conv.user_id != principal.user.id:
        raise NotFound("No such conversation.")
    return conv


async def messages(*, session: AsyncSession, conversation: Conversation) -> list[Message]:
    """The visible messages of a conversation, oldest first."""
    stmt = (
        select(Message)
        .where(Message.conversation_id == conversation.id, Message.status.not_in(HIDDEN))
        .order_by(Message.created_at, Message.role.desc())
    )
    return list((await session.execute(stmt)).scalars())


async def turns(
    *, session: AsyncSession, conversation: Conversation
) -> list[tuple[Message | None, list[Message]]]:
    """The conversation as the chat page shows it: each question with every answer it got,
    oldest first; answers a regeneration replaced are kept so the person can switch back to
    them. A question edited and sent again is gone, with its answers."""
    stmt = (
        select(Message)
        .where(Message.conversation_id == conversation.id)
        .order_by(Message.created_at, Message.role.desc())
    )
    out: list[tuple[Message | None, list[Message]]] = []
    edited = False
    for m in (await session.execute(stmt)).scalars():
        if m.role == Role.user:
            edited = m.status == MessageStatus.superseded
            if not edited:
                out.append((m, []))
        elif not edited:
            if not out:  # an answer with no question before it (a welcome from Teams)
                out.append((None, []))
            out[-1][1].append(m)
    return out


async def ratings(
    *, session: AsyncSession, principal: Principal, message_ids: list[uuid.UUID]
) -> dict[uuid.UUID, int]:
    """The person's own like (+1) or dislike (-1) of each of these answers, to show again."""
    if not message_ids:
        return {}
    stmt = select(Feedback.message_id, Feedback.rating).where(
        Feedback.org_id == principal.org.id,
        Feedback.user_id == principal.user.id,
        Feedback.message_id.in_(message_ids),
    )
    return {mid: rating for mid, rating in (await session.execute(stmt)).all()}


_LINK = re.compile(r"!?\[([^\]]*)\]\([^)]*\)")
_MARKUP = re.compile(r"[`*_~#>|]+")
TITLE_CHARS = 60


def title_of(text: str) -> str:
    """A title read as words: a first message's Markdown (emphasis, headings, links, code,
    tables) and its line breaks would show raw in the list of conversations and in exports.
    Cut at a word, with an ellipsis, when long."""
    plain = " ".join(_MARKUP.sub(" ", _LINK.sub(r"\1", text)).split())
    if len(plain) > TITLE_CHARS:
        cut = plain[: TITLE_CHARS - 1].rsplit(" ", 1)[0] or plain[: TITLE_CHARS - 1]
        plain = cut.rstrip(",;:.-") + "…"
    return plain or "New conversation"


async def rename(*, session: AsyncSession, conversation: Conversation, title: str) -> None:
    """Give a conversation a title of the person's choosing."""
    conversation.title = title.strip()[:200] or conversation.title
    await session.flush()


async def remove(*, session: AsyncSession, conversation: Conversation) -> None:
    """Delete a conversation with its messages and their feedback."""
    await session.delete(conversation)
    await session.flush()


async def own_message(
    *, session: AsyncSession, principal: Principal, message_id: uuid.UUID
) -> Message:
    """A message of one of the caller's conversations."""
    msg = await session.get(Message, message_id)
    if msg is None or msg.org_id != principal.org.id or msg.user_id != principal.user.id:
        raise NotFound("No such message.")
    return msg


async def give_feedback(
    *, session: AsyncSession, principal: Principal, message: Message, rating: int, comment: str
) -> Feedback:
    """Like (+1) or dislike (-1) an answer, with an optional comment; once per person."""
    if rating not in (1, -1):
        raise InvalidInput("rating must be 1 (like) or -1 (dislike)", code="invalid_rating")
    if message.role != Role.assistant:
        raise InvalidInput("Only answers take feedback.", code="not_an_answer")
    stmt = select(Feedback).where(
        Feedback.message_id == message.id, Feedback.user_id == principal.user.id
    )
    feedback = (await session.execute(stmt)).scalar_one_or_none()
    if feedback is None:
        feedback = Feedback(
            org_id=message.org_id,
            message_id=message.id,
            bot_id=message.bot_id,
            user_id=principal.user.id,
            rating=rating,
            comment=comment.strip(),
        )
        session.add(feedback)
    else:
        feedback.rating, feedback.comment = rating, comment.strip()
    await session.flush()
    return feedback


async def bot_feedback(
    *, session: AsyncSession, org_id: uuid.UUID, bot_id: uuid.UUID, limit: int = 200
) -> list[dict[str, Any]]:
    """Feedback on one bot's answers, with the question and answer, newest first."""
    stmt = (
        select(Feedback, Message, User.display_name)
        .join(Message, Message.id == Feedback.message_id)
        .join(User, User.id == Feedback.user_id)
        .where(Feedback.org_id == org_id, Feedback.bot_id == bot_id)
        .order_by(Feedback.created_at.desc())
        .limit(limit)
    )
    rows = []
    for feedback, answer, name in (await session.execute(stmt)).all():
        question = (
            await session.execute(
                select(Message.content)
                .where(
                    Message.conversation_id == answer.conversation_id,
                    Message.role == Role.user,
                    Message.created_at <= answer.created_at,
                )
                .order_by(Message.created_at.desc())
                .limit(1)
            )
        ).scalar_one_or_none()
        rows.append(
            {
                "id": feedback.id,
                "message_id": feedback.message_id,
                "rating": feedback.rating,
                "comment": feedback.comment,
                "created_at": feedback.created_at,
                "question": question or "",
                "answer": answer.content,
                "user_name": name,
                "user_id": feedback.user_id,
                "conversation_id": answer.conversation_id,
            }
        )
    return rows


def export_markdown(conversation: Conversation, bot_name: str, items: list[Message]) -> str:
    """A readable transcript, with each answer's model and status."""
    lines = [
        f"# {title_of(conversation.title)}",
        "",
        f"Bot: {bot_name}  ",
        f"Started: {conversation.created_at:%Y-%m-%d %H:%M} UTC",
        "",
    ]
    for msg in items:
        who = "You" if msg.role == Role.user else bot_name
        note = "" if msg.status == MessageStatus.complete else f" _({msg.status.value})_"
        lines += [f"## {who}{note}", ""]
        for call in msg.tool_calls or []:
            lines.append(f"> Used {call.get('name')} ({call.get('status')}): {call.get('result')}")
        lines += ["", msg.content, ""] if msg.tool_calls else [msg.content, ""]
        for cite in msg.citations or []:
            lines.append(f"- [{cite.get('n')}] {cite.get('title', '')}")
    return "\n".join(lines).rstrip() + "\n"


def export_json(conversation: Conversation, bot_name: str, items: list[Message]) -> str:
    """Everything kept about the conversation, machine-readable."""
    body = {
        "id": str(conversation.id),
        "title": conversation.title,
        "bot": bot_name,
        "bot_id": str(conversation.bot_id),
        "channel": conversation.channel,
        "created_at": conversation.created_at.isoformat(),
        "messages": [
            {
                "id": str(m.id),
                "role": m.role.value,
                "content": m.content,
                "status": m.status.value,
                "model": m.model,
                "prompt_tokens": m.prompt_tokens,
                "completion_tokens": m.completion_tokens,
                "latency_ms": m.latency_ms,
                "citations": m.citations,
                "tool_calls": m.tool_calls or [],
                "created_at": m.created_at.isoformat(),
            }
            for m in items
        ],
    }
    return json.dumps(body, indent=2, ensure_ascii=False)
