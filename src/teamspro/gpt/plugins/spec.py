"""Reading what a plugin offers: an OpenAPI 3.0/3.1 document (JSON or YAML), an
``ai-plugin.json`` manifest pointing at one, or an MCP server's tool list, as ``Operation``s
the model can call with JSON-schema arguments.

Documents come from admins and from servers we do not control, so reading them is bounded:
a size cap before parsing, ``$ref``s followed inside the document only (the validator would
otherwise fetch remote ones from inside the network), a node budget while references are
inlined (a self-referencing schema, or YAML aliases, cannot blow up), and every mistake a
``BadSpec`` whose message says where it is.
"""

from __future__ import annotations

import json
import re
from dataclasses import asdict, dataclass, field
from typing import Any
from urllib.parse import urljoin

import yaml
from openapi_spec_validator import validate
from openapi_spec_validator.validation.exceptions import OpenAPIValidationError

from teamspro.core.errors import InvalidInput

MAX_DOCUMENT_BYTES = 2 * 1024 * 1024
MAX_DOCUMENT_NODES = 200_000  # YAML aliases make a small text a huge tree
MAX_OPERATIONS = 200
MAX_SCHEMA_NODES = 20_000  # over all operations, after references are inlined
MAX_REF_DEPTH = 12  # deeper (recursive) schemas are left open: any value
METHODS = ("get", "put", "post", "delete", "patch", "head", "options", "trace")
_TOOL_NAME = re.compile(r"[^A-Za-z0-9_-]+")


class BadSpec(InvalidInput):
    code = "bad_plugin_spec"


@dataclass
class Operation:
    """One thing the model may call. For OpenAPI, ``method`` and ``path`` say how; each
    argument's place (path, query, header) is in ``places`` and the JSON body, when the
    operation takes one, is the argument named ``body_arg``. For MCP, ``ref`` is the tool's
    own name."""

    name: str  # the tool name the model sees, unique in the plugin
    ref: str  # operationId, or the MCP tool name
    description: str
    parameters: dict[str, Any]
    method: str = ""
    path: str = ""
    places: dict[str, str] = field(default_factory=dict)
    body_arg: str | None = None
    enabled: bool = True

    def dump(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def load(cls, raw: dict[str, Any]) -> Operation:
        return cls(**raw)


@dataclass
class Manifest:
    """What an ``ai-plugin.json`` says: names, the description for the model, where the
    OpenAPI document is and what authentication the plugin expects."""

    name: str
    name_for_model: str
    description: str
    api_url: str
    auth_type: str
    authorization_type: str = ""


def parse_document(raw: bytes | str, *, what: str = "The document") -> dict[str, Any]:
    """JSON or YAML to a mapping; anything else is a ``BadSpec``."""
    if len(raw) > MAX_DOCUMENT_BYTES:
        raise BadSpec(f"{what} is larger than {MAX_DOCUMENT_BYTES // (1024 * 1024)} MB.")
    text = raw.decode("utf-8", errors="replace") if isinstance(raw, bytes) else raw
    try:
        # CSafeLoader when built: the pure-Python loader is slow on a large document.
        loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
        data = json.loads(text) if text.lstrip().startswith("{") else yaml.load(text, loader)
    except RecursionError as exc:  # JSON nested deeper than the parser's stack
        raise BadSpec(f"{what} nests too deeply.") from exc
    except (ValueError, yaml.YAMLError) as exc:
        if "flow level" in str(exc):  # libyaml's own limit on nested [ and {
            raise BadSpec(f"{what} nests too deeply.") from exc
        raise BadSpec(f"{what} is neither JSON nor YAML: {str(exc).splitlines()[0]}") from exc
    if not isinstance(data, dict):
        raise BadSpec(f"{what} is not a JSON or YAML object.")
    _count(data, [0])
    return data


def _count(node: Any, seen: list[int], depth: int = 0) -> None:
    """Walk the parsed tree within a node budget and a depth limit, before anything else
    (the validator included) walks it whole."""
    seen[0] += 1
    if seen[0] > MAX_DOCUMENT_NODES or depth > 64:
        raise BadSpec("The document is too large or too deeply nested once read.")
    if isinstance(node, dict):
        for value in node.values():
            _count(value, seen, depth + 1)
    elif isinstance(node, list):
        for value in node:
            _count(value, seen, depth + 1)


def read_manifest(data: dict[str, Any], url: str) -> Manifest:
    """An ``ai-plugin.json`` (schema v1), with its API URL made absolute."""
    missing = [
        k
        for k in ("schema_version", "name_for_human", "name_for_model", "description_for_model")
        if not isinstance(data.get(k), str) or not data[k].strip()
    ]
    api, auth = data.get("api"), data.get("auth")
    if not isinstance(api, dict) or not isinstance(api.get("url"), str):
        missing.append("api.url")
    if not isinstance(auth, dict) or not isinstance(auth.get("type"), str):
        missing.append("auth.type")
    if missing:
        raise BadSpec(f"This ai-plugin.json lacks {', '.join(missing)}.")
    assert isinstance(api, dict) and isinstance(auth, dict)
    if api.get("type", "openapi") != "openapi":
        raise BadSpec(f"This ai-plugin.json describes its API as {api.get('type')!r}, not openapi.")
    return Manifest(
        name=data["name_for_human"].strip()[:100],
        name_for_model=data["name_for_model"].strip(),
        description=data["description_for_model"].strip(),
        api_url=urljoin(url, api["url"]),
        auth_type=auth["type"],
        authorization_type=str(auth.get("authorization_type") or ""),
    )


def _remote_refs(node: Any, found: list[str]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and not ref.startswith("#"):
            found.append(ref)
        for value in node.values():
            _remote_refs(value, found)
    elif isinstance(node, list):
        for value in node:
            _remote_refs(value, found)


def _check_openapi(doc: dict[str, Any]) -> None:
    version = str(doc.get("openapi", ""))
    if not re.match(r"^3\.[01]\.\d+$", version):
        seen = f"Swagger {doc['swagger']}" if "swagger" in doc else repr(version or None)
        raise BadSpec(f"Only OpenAPI 3.0 and 3.1 documents can be read (this one is {seen}).")
    remote: list[str] = []
    _remote_refs(doc, remote)
    if remote:
        raise BadSpec(f"References outside the document are not followed ({remote[0]!r}).")
    try:
        validate(doc)
    except OpenAPIValidationError as exc:
        where = "/".join(str(p) for p in exc.absolute_path) or "the top level"
        raise BadSpec(f"The OpenAPI document is not valid at {where}: {exc.message}") from exc
    except RecursionError as exc:
        raise BadSpec("The OpenAPI document nests too deeply.") from exc


class _Inliner:
    """Replaces local ``$ref``s with what they point at, within a node budget."""

    def __init__(self, doc: dict[str, Any]) -> None:
        self.doc, self.nodes = doc, 0

    def target(self, ref: str) -> Any:
        node: Any = self.doc
        for part in ref.removeprefix("#/").split("/") if ref != "#" else []:
            part = part.replace("~1", "/").replace("~0", "~")
            if isinstance(node, dict) and part in node:
                node = node[part]
            elif isinstance(node, list) and part.isdigit() and int(part) < len(node):
                node = node[int(part)]
            else:
                raise BadSpec(f"The reference {ref!r} points at nothing.")
        return node

    def inline(self, node: Any, depth: int = 0) -> Any:
        self.nodes += 1
        if self.nodes > MAX_SCHEMA_NODES:
            raise BadSpec("The operations' schemas are too large to offer to a model.")
        if isinstance(node, list):
            return [self.inline(v, depth) for v in node]
        if not isinstance(node, dict):
            return node
        if isinstance(node.get("$ref"), str):
            if depth >= MAX_REF_DEPTH:
                return {}
            return self.inline(self.target(node["$ref"]), depth + 1)
        out = {k: self.inline(v, depth) for k, v in node.items() if k not in ("example", "xml")}
        if out.pop("nullable", False) is True and isinstance(out.get("type"), str):
            out["type"] = [out["type"], "null"]  # OpenAPI 3.0's spelling of JSON Schema's
        return out


def tool_name(prefix: str, name: str, taken: set[str]) -> str:
    """A name OpenAI's protocol accepts (``^[A-Za-z0-9_-]{1,64}$``), unique in ``taken``."""
    base = _TOOL_NAME.sub("_", f"{prefix}_{name}").strip("_")[:64] or prefix
    candidate, n = base, 2
    while candidate in taken:
        candidate = f"{base[: 64 - len(str(n)) - 1]}_{n}"
        n += 1
    taken.add(candidate)
    return candidate


def openapi_operations(doc: dict[str, Any], prefix: str) -> list[Operation]:
    """Every operation of a valid OpenAPI 3.0/3.1 document, arguments as one JSON schema."""
    _check_openapi(doc)
    inliner = _Inliner(doc)
    found: list[Operation] = []
    taken: set[str] = set()
    for path, item in (doc.get("paths") or {}).items():
        if not isinstance(item, dict):
            continue
        item = inliner.inline(item)
        shared = item.get("parameters") or []
        for method in METHODS:
            op = item.get(method)
            if not isinstance(op, dict):
                continue
            if len(found) >= MAX_OPERATIONS:
                raise BadSpec(f"The document has more than {MAX_OPERATIONS} operations.")
            found.append(_operation(prefix, path, method, op, shared, taken))
    if not found:
        raise BadSpec("The OpenAPI document has no operations.")
    return found


def _operation(
    prefix: str,
    path: str,
    method: str,
    op: dict[str, Any],
    shared: list[dict[str, Any]],
    taken: set[str],
) -> Operation:
    params = {(p.get("in"), p.get("name")): p for p in [*shared, *(op.get("parameters") or [])]}
    properties: dict[str, Any] = {}
    required: list[str] = []
    places: dict[str, str] = {}
    for (place, name), param in params.items():
        if place not in ("path", "query", "header") or not isinstance(name, str):
            continue  # cookies are not sent
        schema = dict(param.get("schema") or {"type": "string"})
        if param.get("description"):
            schema.setdefault("description", param["description"])
        properties[name], places[name] = schema, str(place)
        if param.get("required") or place == "path":
            required.append(name)
    body_arg = None
    content = (op.get("requestBody") or {}).get("content") or {}
    json_type = next((t for t in content if t.split(";")[0].strip().endswith("json")), None)
    if json_type is not None:
        body_arg = "body" if "body" not in properties else "request_body"
        properties[body_arg] = content[json_type].get("schema") or {}
        if op["requestBody"].get("required"):
            required.append(body_arg)
    ref = str(op.get("operationId") or f"{method}_{path}")
    parameters: dict[str, Any] = {"type": "object", "properties": properties}
    if required:
        parameters["required"] = required
    words = [str(op.get(k) or "").strip() for k in ("summary", "description")]
    return Operation(
        name=tool_name(prefix, ref, taken),
        ref=ref,
        description=" — ".join(dict.fromkeys(w for w in words if w))[:1000]
        or f"{method.upper()} {path}",
        parameters=parameters,
        method=method.upper(),
        path=path,
        places=places,
        body_arg=body_arg,
    )


def server_url(doc: dict[str, Any], document_url: str) -> str:
    """The API's base URL: the first server (variables at their defaults), made absolute
    against where the document was read; empty when an uploaded document names none."""
    servers = doc.get("servers") or []
    first = servers[0] if servers and isinstance(servers[0], dict) else {}
    url = str(first.get("url") or "")
    for name, variable in (first.get("variables") or {}).items():
        url = url.replace("{" + name + "}", str((variable or {}).get("default", "")))
    if document_url:
        return urljoin(document_url, url or "/").rstrip("/")
    return url.rstrip("/") if re.match(r"^https?://", url, re.I) else ""


def mcp_operations(tools: list[dict[str, Any]], prefix: str) -> list[Operation]:
    """An MCP server's tools (name, description, input schema) as operations."""
    taken: set[str] = set()
    found = []
    for tool in tools[:MAX_OPERATIONS]:
        schema = tool.get("input_schema") or {"type": "object", "properties": {}}
        found.append(
            Operation(
                name=tool_name(prefix, tool["name"], taken),
                ref=tool["name"],
                description=str(tool.get("description") or tool["name"])[:1000],
                parameters=_Inliner(schema).inline(schema),
            )
        )
    if not found:
        raise BadSpec("The MCP server offers no tools.")
    return found
