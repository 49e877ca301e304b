"""The built-in plugin: the date and time now, in the person's time zone or another, and
conversion between zones.

Time zones come as IANA names (``Europe/Berlin``, what browsers report) or Windows names
(``W. Europe Standard Time``, what Teams and Microsoft Graph report); the Windows ones are
mapped with the CLDR table tzlocal maintains. The zone database is the ``tzdata`` package, so
a server without the system's zoneinfo still knows every zone.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from tzlocal.windows_tz import win_tz

from teamspro.gpt.plugins.base import CallContext, Tool, ToolFailed

KEY = "datetime"
NAME = "Date and time"
_BY_LOWER = {name.lower(): iana for name, iana in win_tz.items()}


def zone(name: str | None) -> ZoneInfo:
    """An IANA or Windows zone name as a zone; UTC when none is given."""
    if not name or not name.strip():
        return ZoneInfo("UTC")
    wanted = name.strip()
    iana = _BY_LOWER.get(wanted.lower(), wanted)
    try:
        return ZoneInfo(iana)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise ToolFailed(f"Unknown time zone {name!r}.", status="invalid") from exc


def _describe(moment: datetime, where: ZoneInfo) -> str:
    local = moment.astimezone(where)
    return f"{local:%A %d %B %Y, %H:%M} ({where.key}, UTC{local:%z})"


async def current_time(args: dict[str, Any], ctx: CallContext) -> str:
    where = zone(args.get("time_zone") or ctx.time_zone)
    return _describe(datetime.now(UTC), where)


async def convert_time(args: dict[str, Any], ctx: CallContext) -> str:
    source = zone(args.get("from_time_zone") or ctx.time_zone)
    target = zone(args["to_time_zone"])
    try:
        moment = datetime.fromisoformat(str(args["time"]))
    except ValueError as exc:
        raise ToolFailed(f"{args['time']!r} is not an ISO 8601 date and time.", "invalid") from exc
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=source)
    return f"{_describe(moment, source)} is {_describe(moment, target)}"


_ZONE = {
    "type": "string",
    "maxLength": 64,
    "description": "An IANA (Europe/Paris) or Windows (Romance Standard Time) time zone name",
}
TOOLS = [
    Tool(
        KEY,
        "current_time",
        "The current date and time, in the person's time zone unless another is given.",
        {"type": "object", "properties": {"time_zone": _ZONE}, "additionalProperties": False},
        current_time,
    ),
    Tool(
        KEY,
        "convert_time",
        "Convert a date and time from one time zone to another.",
        {
            "type": "object",
            "properties": {
                "time": {
                    "type": "string",
                    "maxLength": 40,
                    "description": "ISO 8601, e.g. 2026-03-01T09:30",
                },
                "from_time_zone": _ZONE,
                "to_time_zone": _ZONE,
            },
            "required": ["time", "to_time_zone"],
            "additionalProperties": False,
        },
        convert_time,
    ),
]
