"""msgflux's image-editing API on a Rust core.

A documented msgflux example runs after changing its import line::

    import msgflux_rs as mf
    model = mf.Model.image_text_to_image("openai/dall-e-2")
    response = model(prompt="Add a sunset sky", image="photo.png", mask="sky_mask.png")
    print(response.consume())
"""

from msgflux_rs._native import Model, Response
from msgflux_rs.errors import (
    AuthenticationError,
    BatchError,
    CancelledError,
    ConfigurationError,
    ContentPolicyError,
    EditTimeoutError,
    FileError,
    ImageDecodeError,
    InvalidInputError,
    InvalidResponseError,
    MsgfluxError,
    NetworkError,
    NotFoundError,
    PermissionDeniedError,
    ProviderUnavailableError,
    QuotaExceededError,
    RateLimitError,
    RejectedError,
    ServerError,
)
from msgflux_rs import image, nn

__all__ = [
    "Model",
    "Response",
    "image",
    "nn",
    "MsgfluxError",
    "ProviderUnavailableError",
    "InvalidInputError",
    "ConfigurationError",
    "AuthenticationError",
    "PermissionDeniedError",
    "ContentPolicyError",
    "RateLimitError",
    "QuotaExceededError",
    "NotFoundError",
    "RejectedError",
    "ServerError",
    "CancelledError",
    "EditTimeoutError",
    "NetworkError",
    "InvalidResponseError",
    "ImageDecodeError",
    "FileError",
    "BatchError",
]
