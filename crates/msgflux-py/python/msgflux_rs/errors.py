"""The exceptions of msgflux_rs: one class per way an edit fails, all under
:class:`MsgfluxError`.

Classes that the msgflux docs catch by a built-in type also derive from it:
a provider that is not compiled in is an ``ImportError``, invalid parameters
are a ``ValueError``, a timeout is a ``TimeoutError``, a failed connection a
``ConnectionError``. The native module raises them (``src/errors.rs``).
"""

from __future__ import annotations

from typing import Any, List, Optional, Tuple


class MsgfluxError(Exception):
    """Every error of msgflux_rs. ``str(e)`` is the whole message."""

    #: The registered provider name (``openai``, ``replicate``, ...), when known.
    provider: Optional[str] = None
    #: The provider's own message, unchanged.
    provider_message: Optional[str] = None
    #: The provider's request id, for support tickets.
    request_id: Optional[str] = None
    #: The HTTP status behind the error.
    status: Optional[int] = None
    #: The provider's error code (``content_policy_violation``, ...).
    code: Optional[str] = None
    #: Seconds the provider asked to wait before a retry.
    retry_after: Optional[float] = None
    #: Whether the same request may succeed later unchanged.
    retryable: bool = False
    #: Whether the provider may have done (and billed) the work although no answer arrived.
    maybe_billed: bool = False

    def __init__(self, message: str, **attributes: Any) -> None:
        super().__init__(message)
        self.message = message
        for name, value in attributes.items():
            setattr(self, name, value)


class ProviderUnavailableError(MsgfluxError, ImportError):
    """The provider is not compiled into this build (msgflux raises ``ImportError``)."""

    registered: List[str] = []
    hint: Optional[str] = None


class InvalidInputError(MsgfluxError, ValueError):
    """A parameter breaks a rule of the model or its provider; nothing was sent.

    ``param`` and ``rule`` are the first broken rule; ``violations`` lists
    every one as ``(param, rule)``.
    """

    param: str = ""
    rule: str = ""
    violations: List[Tuple[str, str]] = []


class ConfigurationError(MsgfluxError, ValueError):
    """The provider is misconfigured: a missing key, a bad base URL, an unknown setting."""


class AuthenticationError(MsgfluxError):
    """The credentials were missing, wrong or expired (HTTP 401)."""


class PermissionDeniedError(MsgfluxError):
    """The credentials are valid but not allowed to do this (HTTP 403)."""


class ContentPolicyError(MsgfluxError):
    """The provider refused the prompt or image on policy grounds."""


class RateLimitError(MsgfluxError):
    """Too many requests; ``retry_after`` is the wait the provider asked for, in seconds."""


class QuotaExceededError(MsgfluxError):
    """The account is out of credit or over its quota; retrying will not help."""


class NotFoundError(MsgfluxError):
    """The model, prediction, deployment or output does not exist (or expired)."""


class RejectedError(MsgfluxError):
    """The provider rejected the request for another reason (HTTP 400, 409, 413, 422)."""


class ServerError(MsgfluxError):
    """The provider failed on its side (HTTP 5xx, a failed prediction)."""


class CancelledError(MsgfluxError):
    """The job was cancelled or aborted on the provider's side."""


class EditTimeoutError(MsgfluxError, TimeoutError):
    """No answer in time. ``maybe_billed`` is true when the request had been sent."""

    after: float = 0.0


class NetworkError(MsgfluxError, ConnectionError):
    """The connection failed; ``request_sent`` says whether before or after sending."""

    request_sent: bool = False


class InvalidResponseError(MsgfluxError):
    """The provider answered with something that is not a result (the call may have been billed)."""


class ImageDecodeError(MsgfluxError, ValueError):
    """Image bytes could not be decoded or encoded; ``param`` names which."""

    param: str = ""


class FileError(MsgfluxError, OSError):
    """A file could not be read or written; ``path`` names it."""

    path: str = ""


class BatchError(MsgfluxError):
    """Items of a ``map_gather`` failed.

    ``results`` holds every slot in input order (a ``Response`` or the
    item's exception); ``errors`` the failures as ``(index, exception)``.
    Pass ``return_exceptions=True`` to get the slots instead of this error.
    """

    results: Tuple[Any, ...] = ()
    errors: List[Tuple[int, MsgfluxError]] = []
