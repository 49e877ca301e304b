"""Settings, read once from ``TEAMSPRO_*`` environment variables.

Nested groups use ``__`` (``TEAMSPRO_RATE_LIMIT__USER_CAPACITY``). Defaults describe the
embedded mode: one data directory holds the SQLite database, the job queue, the blobs and
the generated secret key, so a fresh machine needs no configuration at all.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

ENTRA_SCOPES = ("openid", "profile", "email", "offline_access", "User.Read")
# The Microsoft Graph scopes each app's product page lists (shared/seeds). Sign-in asks GPT
# Pro's; Image Pro adds Sites.ReadWrite.All when it redeems a grant for Graph.
GRAPH_SCOPES = {"gpt": ENTRA_SCOPES, "images": (*ENTRA_SCOPES, "Sites.ReadWrite.All")}


@dataclass(frozen=True)
class ScopeUse:
    """A Graph scope an app uses, why and when (``published``: its product page lists it)."""

    scope: str
    why: str
    when: str
    published: bool = True


_SIGN_IN = "at sign-in with Microsoft"
_SIGN_IN_USES = (
    ScopeUse("openid", "signs the person in (OpenID Connect)", _SIGN_IN),
    ScopeUse("profile", "their name, shown in the apps", _SIGN_IN),
    ScopeUse("email", "their e-mail address, to tell accounts apart", _SIGN_IN),
    ScopeUse(
        "offline_access",
        "a refresh token, so the SharePoint work an admin connected goes on after sign-in",
        f"{_SIGN_IN}, and with a SharePoint grant",
    ),
    ScopeUse("User.Read", "their profile (name, UPN), refreshed after each sign-in", _SIGN_IN),
)
# Every Graph scope each app uses, the product pages' and beyond (inventory.scope_table shows
# them on /privacy and in `teamspro data inventory`; its drift check fails on any other).
GRAPH_SCOPE_USES: dict[str, tuple[ScopeUse, ...]] = {
    "gpt": (
        *_SIGN_IN_USES,
        ScopeUse(
            "Sites.ReadWrite.All",
            "reads the SharePoint libraries and site pages an admin connects as a bot's "
            "knowledge (it never writes there); Graph has no narrower scope for a chosen "
            "library that TeamsPro could ask for with Image Pro's one grant",
            "only when an admin connects a SharePoint knowledge source, with that admin's "
            "consent, then at each sync of the source",
            published=False,
        ),
    ),
    "images": (
        *_SIGN_IN_USES,
        ScopeUse(
            "Sites.ReadWrite.All",
            "reads and saves images in the team's SharePoint library",
            "when a tab's library is in SharePoint: attaching, saving, syncing",
        ),
    ),
}
MICROSOFT_LOGIN = "login.microsoftonline.com"
GRAPH_RESOURCE = "https://graph.microsoft.com/"


class OidcProvider(BaseModel):
    """One sign-in provider; ``preset="entra"`` fills in Microsoft Entra's multi-tenant rules."""

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_-]{0,31}$")
    name: str
    issuer: str = ""
    client_id: str
    client_secret: str = ""
    preset: Literal["generic", "entra"] = "generic"
    # Claims that identify the organisation and the user. Entra: tid / oid.
    tenant_claim: str | None = None
    user_id_claim: str = "sub"
    # Tenants allowed to sign in; empty means any tenant of this issuer.
    allowed_tenants: list[str] = []
    scopes: list[str] = ["openid", "profile", "email", "offline_access"]
    # Where the profile is refreshed at each login: "userinfo" or "graph" (Graph /me).
    profile_source: Literal["userinfo", "graph"] = "userinfo"
    graph_base_url: str = "https://graph.microsoft.com/v1.0"
    # Teams tab single sign-on: the Application ID URI that Teams' getAuthToken() tokens
    # are issued for (api://<host>/<client id>); unset turns Teams SSO off.
    sso_audience: str | None = None

    @model_validator(mode="after")
    def _apply_preset(self) -> OidcProvider:
        if self.preset == "entra":
            # Multi-tenant: discovery through /organizations, the issuer is checked per tid.
            self.issuer = self.issuer or "https://login.microsoftonline.com/organizations/v2.0"
            self.tenant_claim = "tid"
            self.user_id_claim = "oid"
            self.scopes = list(ENTRA_SCOPES)
            self.profile_source = "graph"
        if not self.issuer:
            raise ValueError("issuer is required for a generic OIDC provider")
        extra = set(self.scopes) - set(GRAPH_SCOPES["gpt"])
        if MICROSOFT_LOGIN in self.issuer.lower() and extra:
            # The published promise: sign-in with Microsoft asks these scopes and no other.
            raise ValueError(f"Microsoft sign-in may ask only {' '.join(ENTRA_SCOPES)}: {extra}")
        return self


class RateLimitSettings(BaseModel):
    """Token buckets: capacity is the burst, refill is tokens per second."""

    enabled: bool = True
    user_capacity: float = 120
    user_refill_per_second: float = 2
    org_capacity: float = 1200
    org_refill_per_second: float = 20
    # Cost of an operation; anything not listed costs ``default_cost``.
    default_cost: float = 1
    costs: dict[str, float] = {"write": 2}


class ProviderConfig(BaseModel):
    """An instance-wide model provider (organisations may add their own in the admin pages)."""

    key: str = Field(pattern=r"^[a-z0-9][a-z0-9_.-]{0,63}$")
    name: str = ""
    kind: str  # openai, azure_openai, openai_compatible
    base_url: str = ""
    api_key: str = ""
    api_version: str = ""
    models: list[str] = []
    # Set for a provider an organisation admin added: its URL goes through the outbound
    # policy (core/outbound.py); instance-wide providers are trusted.
    organization: bool = False


class GptSettings(BaseModel):
    """GPT Pro: providers, plan limits and the chat loop's budgets."""

    providers: list[ProviderConfig] = []
    # Plans sell N messages per rolling window; 0 means unlimited.
    window_hours: float = 3
    org_messages_per_window: int = 0
    user_messages_per_window: int = 0
    # Tokens of earlier turns sent to the model (the newest first), counted offline.
    history_token_budget: int = 3000
    request_timeout_seconds: float = 60
    # Time allowed for the model's first token before the turn fails as a timeout.
    first_token_timeout_seconds: float = 30
    # A plugin call: time to connect and to wait between bytes of the answer, the answer's
    # size kept at most (a tool's result is cut to a token budget anyway), and the time a
    # whole call may take, token request and redirects included.
    plugin_connect_timeout_seconds: float = 5
    plugin_read_timeout_seconds: float = 10
    plugin_max_response_kb: int = 512
    plugin_call_timeout_seconds: float = 15
    # Reading what a plugin offers when an admin imports it (documents, manifest, MCP tool
    # list), all of it: a server that drips a byte a second never trips the read timeout.
    plugin_import_timeout_seconds: float = 30


class KnowledgeSettings(BaseModel):
    """GPT Pro knowledge base limits and chunking."""

    max_file_bytes: int = 25 * 1024 * 1024
    max_pages: int = 500
    max_documents_per_bot: int = 500
    chunk_words: int = 180
    # About 10% of a chunk, as Open WebUI's default (100 of 1,000 characters): more overlap
    # embeds the same words again for little gain in recall.
    chunk_overlap_words: int = 20
    # OCR (Tesseract) of scanned PDF pages and pictures: its languages, joined by "+" as
    # Tesseract names them ("eng+deu"), the time allowed per page, and pages read per document.
    ocr_languages: str = "eng"
    ocr_page_timeout_seconds: float = 60
    ocr_max_pages: int = 100
    # SharePoint sources sync by delta this often (and on demand from the knowledge page).
    source_sync_minutes: int = Field(default=60, ge=5)


class TeamsApp(BaseModel):
    """One Teams app's bot registration in Entra: GPT Pro and Image Pro each have one (Teams
    lets a bot id belong to one app)."""

    app_id: str | None = None
    app_password: str | None = None  # the registration's client secret: replies are signed
    # The registration's tenant for a single-tenant bot; multi-tenant bots leave it unset.
    app_tenant_id: str | None = None


class TeamsSettings(BaseModel):
    """The Teams bots (core/teams.py): their registrations and who they trust.

    A bot without ``app_id`` refuses every activity, unless ``allow_unauthenticated`` (local
    development with the Agents Playground, never production) says otherwise.
    """

    gpt: TeamsApp = TeamsApp()
    images: TeamsApp = TeamsApp()
    allow_unauthenticated: bool = False
    # The sign-in provider (TEAMSPRO_OIDC_PROVIDERS key) whose organisations Teams tenants are:
    # a Teams user is the person who signs in on the web with the same tenant and object id.
    identity_provider: str = "entra"
    # Sovereign clouds, or a test's own key server: where activity signing keys and the
    # Entra login live (default: Microsoft's public cloud).
    openid_metadata_url: str | None = None
    login_endpoint: str | None = None
    # The GPT Pro bot a Teams chat starts with when a person may use several (by name).
    default_bot: str | None = None


class ImagesSettings(BaseModel):
    """Image Pro: upload limits, renditions and signed URLs."""

    max_file_bytes: int = 40 * 1024 * 1024
    # Decoded pixels allowed per image (frames included): a decompression-bomb guard.
    max_pixels: int = 64_000_000
    rendition_sizes: list[int] = [320, 1280]
    rendition_formats: list[Literal["webp", "jpeg"]] = ["webp", "jpeg"]
    signed_url_ttl_seconds: int = 3600


class GraphSettings(BaseModel):
    """The one Microsoft Graph client both apps use (core/graph)."""

    base_url: str = "https://graph.microsoft.com/v1.0"
    # What a stored grant is redeemed for: the one SharePoint scope the seeds publish (Image
    # Pro's Sites.ReadWrite.All); GPT Pro's SharePoint sources only read with it.
    scope: str = "https://graph.microsoft.com/Sites.ReadWrite.All offline_access"
    max_retries: int = 5
    # Files up to this size go in one PUT; larger ones through an upload session.
    simple_upload_bytes: int = 4 * 1024 * 1024
    # Upload-session slice size; Graph wants a multiple of 320 KiB.
    chunk_bytes: int = 10 * 320 * 1024
    # Our own token bucket per organisation, under Graph's per-tenant budget: a sync of a
    # large library paces itself instead of drawing 429s for everyone in the tenant.
    requests_per_second: float = 20.0
    burst: int = 40

    @field_validator("scope")
    @classmethod
    def _published_scopes_only(cls, value: str) -> str:
        asked = {s.removeprefix(GRAPH_RESOURCE) for s in value.split()}
        published = set(GRAPH_SCOPES["images"]) | set(GRAPH_SCOPES["gpt"])
        if extra := asked - published:
            raise ValueError(f"Graph may be asked only for the published scopes: {extra}")
        return value


class Settings(BaseSettings):
    model_config = SettingsConfigDict(
        env_prefix="TEAMSPRO_", env_nested_delimiter="__", extra="ignore"
    )

    environment: Literal["development", "production", "test"] = "development"
    data_dir: Path = Path("data")
    database_url: str | None = None
    redis_url: str | None = None
    secret_key: str | None = None
    base_url: str | None = None
    host: str = "127.0.0.1"
    port: int = 8000
    # Serve HTTPS directly (port 443 in production) with this certificate chain and key (PEM);
    # unset, serve plain HTTP behind a reverse proxy that terminates TLS.
    tls_cert_file: Path | None = None
    tls_key_file: Path | None = None
    # Addresses whose X-Forwarded-For / X-Forwarded-Proto are believed (the reverse proxy's);
    # "*" trusts everyone, which only a server reachable through the proxy alone may do.
    trusted_proxies: list[str] = ["127.0.0.1"]
    max_body_bytes: int = 64 * 1024 * 1024
    session_ttl_hours: int = 24 * 7
    login_link_ttl_minutes: int = 30
    auto_migrate: bool = True
    embedded_worker: bool | None = None
    worker_threads: int = 2
    # Web processes serving this data directory (set by `teamspro serve --workers N`): more
    # than one without Redis shares cache and rate-limit buckets through a file (shared_file).
    processes: int = 1
    oidc_providers: list[OidcProvider] = []
    local_login: bool = True
    rate_limit: RateLimitSettings = RateLimitSettings()
    gpt: GptSettings = GptSettings()
    kb: KnowledgeSettings = KnowledgeSettings()
    images: ImagesSettings = ImagesSettings()
    graph: GraphSettings = GraphSettings()
    teams: TeamsSettings = TeamsSettings()
    log_level: str = "INFO"
    log_format: Literal["auto", "json", "text"] = "auto"
    otlp_endpoint: str | None = None
    cache_ttl_seconds: int = 300
    http_timeout_seconds: float = 10.0
    # Hosts (``name`` or ``name:port``) organisation admins may point providers at even
    # though they resolve to a local or private address (core/outbound.py).
    outbound_allow: list[str] = []
    # Audit events (sign-ins, admin actions, plugin calls, purges) older than this are
    # deleted by an hourly job; 0 keeps them while the organisation lives.
    audit_retention_days: int = 365
    # A deactivated organisation's data is purged this many days later by an hourly job;
    # 0 keeps it until an instance admin purges it.
    purge_after_days: int = 0
    # argon2id at RFC 9106's cost; "test" (the cheapest legal parameters) is refused outside
    # TEAMSPRO_ENVIRONMENT=test, so that test suites can seed hundreds of accounts.
    password_hashing: Literal["argon2id", "test"] = "argon2id"

    @field_validator("base_url")
    @classmethod
    def _strip_slash(cls, value: str | None) -> str | None:
        return value.rstrip("/") if value else None

    @property
    def public_url(self) -> str:
        """Where people reach this server: TEAMSPRO_BASE_URL, or derived from host and port."""
        if self.base_url:
            return self.base_url
        host = "127.0.0.1" if self.host in ("0.0.0.0", "::", "") else self.host
        scheme = "https" if self.tls_cert_file else "http"
        return f"{scheme}://{host}:{self.port}"

    @model_validator(mode="after")
    def _check_tls(self) -> Settings:
        if bool(self.tls_cert_file) != bool(self.tls_key_file):
            raise ValueError("TEAMSPRO_TLS_CERT_FILE and TEAMSPRO_TLS_KEY_FILE go together")
        for path in (self.tls_cert_file, self.tls_key_file):
            if path is not None and not path.is_file():
                raise ValueError(f"TLS file {path} does not exist")
        return self

    @model_validator(mode="after")
    def _check_password_hashing(self) -> Settings:
        if self.password_hashing == "test" and self.environment != "test":
            raise ValueError("TEAMSPRO_PASSWORD_HASHING=test is for TEAMSPRO_ENVIRONMENT=test only")
        return self

    @model_validator(mode="after")
    def _check_production(self) -> Settings:
        if self.environment == "production":
            if not self.secret_key or len(self.secret_key) < 32 or "change" in self.secret_key:
                raise ValueError("TEAMSPRO_SECRET_KEY must be a random value of 32+ characters")
            if not self.public_url.startswith("https://"):
                raise ValueError("TEAMSPRO_BASE_URL must use https in production")
        return self

    @cached_property
    def resolved_database_url(self) -> str:
        if self.database_url:
            url = self.database_url
            # Accept plain postgres URLs; the async driver is psycopg 3.
            for prefix in ("postgresql://", "postgres://"):
                if url.startswith(prefix):
                    return "postgresql+psycopg://" + url[len(prefix) :]
            return url
        return f"sqlite+aiosqlite:///{(self.data_dir / 'teamspro.db').resolve()}"

    @property
    def is_sqlite(self) -> bool:
        return self.resolved_database_url.startswith("sqlite")

    @property
    def run_embedded_worker(self) -> bool:
        """Without Redis nothing else can share the SQLite queue safely, so consume in-process."""
        if self.embedded_worker is not None:
            return self.embedded_worker
        return self.redis_url is None

    @property
    def secure_cookies(self) -> bool:
        return self.public_url.startswith("https://")

    @cached_property
    def resolved_secret_key(self) -> str:
        """The configured key, or one generated once and kept (0600) in the data directory."""
        if self.secret_key:
            return self.secret_key
        path = self.data_dir / "secret.key"
        if path.exists():
            return path.read_text().strip()
        self.data_dir.mkdir(parents=True, exist_ok=True)
        key = secrets.token_urlsafe(48)
        path.touch(mode=0o600)
        path.write_text(key)
        return key

    def provider(self, key: str) -> OidcProvider | None:
        return next((p for p in self.oidc_providers if p.key == key), None)
