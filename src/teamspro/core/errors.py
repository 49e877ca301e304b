"""One error tree, raised by services and mapped once to JSON (API) or HTML (pages).

TeamsProError                 500 unless a subclass says otherwise
 ├── InvalidInput             400  bad value, bad query option
 ├── Unauthenticated          401  no or bad credentials
 ├── PermissionDenied         403  known caller, not allowed
 ├── NotFound                 404  missing, or belongs to another organisation
 ├── Conflict                 409  duplicate or wrong state
 ├── PayloadTooLarge          413
 ├── UnsupportedMediaType     415  a file type we do not read (or refuse, like SVG)
 ├── QuotaExceeded            429  carries retry_after seconds
 └── UpstreamError            502  a remote service failed (OIDC provider, Graph, LLM)
"""

from __future__ import annotations


class TeamsProError(Exception):
    status_code = 500
    code = "internal_error"

    def __init__(self, message: str = "", *, code: str | None = None) -> None:
        super().__init__(message or self.__class__.__name__)
        self.message = message or self.default_message()
        if code:
            self.code = code

    def default_message(self) -> str:
        return "Something went wrong."


class InvalidInput(TeamsProError):
    status_code = 400
    code = "invalid_input"


class Unauthenticated(TeamsProError):
    status_code = 401
    code = "unauthenticated"

    def default_message(self) -> str:
        return "Sign in first."


class PermissionDenied(TeamsProError):
    status_code = 403
    code = "permission_denied"

    def default_message(self) -> str:
        return "You are not allowed to do this."


class NotFound(TeamsProError):
    status_code = 404
    code = "not_found"

    def default_message(self) -> str:
        return "Not found."


class Conflict(TeamsProError):
    status_code = 409
    code = "conflict"


class Gone(TeamsProError):
    status_code = 410
    code = "gone"


class PayloadTooLarge(TeamsProError):
    status_code = 413
    code = "payload_too_large"


class UnsupportedMediaType(TeamsProError):
    status_code = 415
    code = "unsupported_media_type"


def retry_after(seconds: float) -> str:
    """A Retry-After header value: whole seconds, rounded up (past a thousandth), at least one."""
    return str(max(1, int(seconds + 0.999)))


class QuotaExceeded(TeamsProError):
    status_code = 429
    code = "rate_limited"

    def __init__(self, message: str = "", *, retry_after: float = 1.0) -> None:
        super().__init__(message or "Too many requests.")
        self.retry_after = retry_after


class UpstreamError(TeamsProError):
    status_code = 502
    code = "upstream_error"
