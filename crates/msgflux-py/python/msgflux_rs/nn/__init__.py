"""``msgflux_rs.nn``, for the module path the msgflux docs import (``msgflux.nn.functional``)."""

from msgflux_rs.nn import functional

__all__ = ["functional"]
