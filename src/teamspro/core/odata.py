"""OData query options for collection endpoints.

``$filter`` goes through the maintained ``odata-query`` parser and its SQLAlchemy visitor;
the other options are simple enough to read here. Every option is checked against the
fields an endpoint exposes, so a filter can never reach a column it does not show
(password hashes, token hashes).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

from odata_query import ast as odata_ast
from odata_query.exceptions import ODataException
from odata_query.grammar import ODataLexer, ODataParser
from odata_query.sqlalchemy.orm import AstToSqlAlchemyOrmVisitor
from odata_query.visitor import NodeVisitor
from sqlalchemy import Select, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from starlette.datastructures import QueryParams
from starlette.requests import Request

from teamspro.core.errors import InvalidInput

MAX_TOP = 1000
DEFAULT_TOP = 100
OPTIONS = {"$filter", "$orderby", "$top", "$skip", "$count", "$select"}


class _Fields(NodeVisitor):
    def __init__(self) -> None:
        self.names: set[str] = set()
        self.nested = False

    def visit_Identifier(self, node: odata_ast.Identifier) -> None:
        self.names.add(node.name)

    def visit_Attribute(self, node: odata_ast.Attribute) -> None:
        self.nested = True

    def visit_Call(self, node: odata_ast.Call) -> None:
        # The function's own name (contains, startswith...) is not a field; its arguments may be.
        for arg in node.args:
            self.visit(arg)


@dataclass
class ODataQuery:
    filter: Any = None
    orderby: list[tuple[str, bool]] = field(default_factory=list)
    top: int = DEFAULT_TOP
    skip: int = 0
    count: bool = False
    select: list[str] | None = None


def _int(name: str, raw: str | None, default: int, maximum: int | None = None) -> int:
    if raw is None:
        return default
    if not raw.isdigit():
        raise InvalidInput(f"{name} must be a non-negative integer", code="invalid_odata")
    value = int(raw)
    if maximum is not None and value > maximum:
        raise InvalidInput(f"{name} must be at most {maximum}", code="invalid_odata")
    return value


def parse(params: QueryParams, fields: Sequence[str]) -> ODataQuery:
    """Read and validate the OData options of one request against the exposed fields."""
    allowed = set(fields)
    unknown = {k for k in params if k.startswith("$") and k not in OPTIONS}
    if unknown:
        raise InvalidInput(f"unsupported query option {sorted(unknown)[0]}", code="invalid_odata")
    query = ODataQuery(
        top=_int("$top", params.get("$top"), DEFAULT_TOP, MAX_TOP),
        skip=_int("$skip", params.get("$skip"), 0),
    )
    count = params.get("$count")
    if count not in (None, "true", "false"):
        raise InvalidInput("$count must be true or false", code="invalid_odata")
    query.count = count == "true"
    if raw := params.get("$filter"):
        try:
            tree = ODataParser().parse(ODataLexer().tokenize(raw))
        except (ODataException, Exception) as exc:  # the parser raises several kinds
            raise InvalidInput(f"invalid $filter: {exc}", code="invalid_odata") from exc
        if tree is None:
            raise InvalidInput("invalid $filter: empty expression", code="invalid_odata")
        seen = _Fields()
        seen.visit(tree)
        bad = sorted(seen.names - allowed)
        if bad or seen.nested:
            name = bad[0] if bad else "a nested property"
            raise InvalidInput(f"invalid $filter: cannot filter on {name}", code="invalid_odata")
        query.filter = tree
    if raw := params.get("$orderby"):
        for part in raw.split(","):
            words = part.split()
            if not words or len(words) > 2 or words[0] not in allowed:
                raise InvalidInput(f"invalid $orderby: {part.strip()!r}", code="invalid_odata")
            if len(words) == 2 and words[1].lower() not in ("asc", "desc"):
                raise InvalidInput(f"invalid $orderby direction {words[1]!r}", code="invalid_odata")
            query.orderby.append((words[0], len(words) == 2 and words[1].lower() == "desc"))
    if raw := params.get("$select"):
        names = [n.strip() for n in raw.split(",")]
        bad = [n for n in names if n not in allowed]
        if bad:
            raise InvalidInput(f"invalid $select: unknown field {bad[0]!r}", code="invalid_odata")
        query.select = names
    return query


async def page(
    session: AsyncSession,
    stmt: Select[Any],
    model: type,
    query: ODataQuery,
    *,
    default_order: str = "created_at",
    count_stmt: Select[Any] | None = None,
) -> tuple[list[Any], int | None]:
    """Apply the options to a tenant-filtered statement; return the rows and the total.

    ``count_stmt`` selects the same rows as ``stmt`` but may be planned differently (the
    best plan for one page in order is not the best plan to count every match).
    """
    if query.filter is not None:
        try:
            condition = AstToSqlAlchemyOrmVisitor(model).visit(query.filter)
        except (ODataException, TypeError, ValueError, AttributeError) as exc:
            raise InvalidInput(f"invalid $filter: {exc}", code="invalid_odata") from exc
        stmt = stmt.filter(condition)
        count_stmt = count_stmt.filter(condition) if count_stmt is not None else None
    total = None
    if query.count:
        counted = (count_stmt if count_stmt is not None else stmt).subquery()
        total = (await session.execute(select(func.count()).select_from(counted))).scalar()
    for name, desc in query.orderby or [(default_order, False)]:
        column = getattr(model, name)
        stmt = stmt.order_by(column.desc() if desc else column.asc())
    stmt = stmt.order_by(model.id).offset(query.skip).limit(query.top)  # type: ignore[attr-defined]
    rows = list((await session.execute(stmt)).scalars())
    return rows, total


def collection(
    request: Request, items: list[dict[str, Any]], query: ODataQuery, total: int | None
) -> dict[str, Any]:
    """The response envelope Microsoft Graph uses: value, @odata.count, @odata.nextLink."""
    if query.select:
        keep = set(query.select) | {"id"}
        items = [{k: v for k, v in item.items() if k in keep} for item in items]
    body: dict[str, Any] = {"value": items}
    if total is not None:
        body["@odata.count"] = total
    more = query.skip + query.top < total if total is not None else len(items) == query.top
    if more:
        params = dict(request.query_params)
        params["$skip"] = str(query.skip + query.top)
        base = str(request.url.remove_query_params(list(request.query_params)))
        body["@odata.nextLink"] = f"{base}?{urlencode(params)}"
    return body
