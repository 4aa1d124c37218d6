"""Type stubs of the native module (crates/msgflux-py/src)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import IO, Any, Awaitable, Callable, Dict, List, Literal, Optional, Sequence, Tuple, Union, overload

# What every image parameter takes: a path (str or PathLike), an http(s) URL,
# a data: URI, bare base64, bytes, a binary file object, a Mask, a Pillow
# image or a numpy array of uint8 (HxW, HxWx3, HxWx4).
ImageLike = Union[str, "os.PathLike[str]", bytes, bytearray, memoryview, IO[bytes], "Mask", Any]
Size = Union[str, Tuple[int, int]]

class Model:
    """An image-editing model of some provider."""

    @staticmethod
    def image_text_to_image(
        model_id: str,
        *,
        api_key: Optional[str] = None,
        base_url: Optional[str] = None,
        timeout: Optional[float] = None,
        max_retries: Optional[int] = None,
        concurrency_limit: Optional[int] = None,
        **settings: Any,
    ) -> Model: ...
    @property
    def id(self) -> str: ...
    def __call__(
        self,
        prompt: str,
        image: Union[ImageLike, Sequence[ImageLike], None] = None,
        mask: Optional[ImageLike] = None,
        *,
        n: int = 1,
        size: Optional[Size] = None,
        response_format: Literal["url", "base64"] = "url",
        seed: Optional[int] = None,
        keep_unmasked: Optional[bool] = None,
        prepare: bool = False,
        timeout: Optional[float] = None,
        on_progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        **options: Union[bool, int, float, str],
    ) -> Response: ...
    def acall(
        self,
        prompt: str,
        image: Union[ImageLike, Sequence[ImageLike], None] = None,
        mask: Optional[ImageLike] = None,
        *,
        n: int = 1,
        size: Optional[Size] = None,
        response_format: Literal["url", "base64"] = "url",
        seed: Optional[int] = None,
        keep_unmasked: Optional[bool] = None,
        prepare: bool = False,
        timeout: Optional[float] = None,
        on_progress: Optional[Callable[[Dict[str, Any]], None]] = None,
        **options: Union[bool, int, float, str],
    ) -> Awaitable[Response]: ...

class Response:
    """The result of an edit."""

    def consume(self) -> Union[str, List[str]]: ...
    def image_bytes(self) -> List[bytes]: ...
    def save(self, path: Union[str, "os.PathLike[str]"]) -> Union[Path, List[Path]]: ...
    @property
    def provider(self) -> str: ...
    @property
    def model(self) -> str: ...
    @property
    def request_id(self) -> Optional[str]: ...
    @property
    def usage(self) -> Optional[Dict[str, Optional[int]]]: ...
    @property
    def cost(self) -> Optional[Dict[str, Any]]: ...
    @property
    def elapsed(self) -> float: ...
    @property
    def prompt_used(self) -> bool: ...
    @property
    def revised_prompts(self) -> List[Optional[str]]: ...
    @property
    def unmasked(self) -> List[Optional[Dict[str, Any]]]: ...
    @property
    def metadata(self) -> Any: ...
    def __len__(self) -> int: ...

class Batch:
    """A batch with its requests built; see ``msgflux_rs.nn.functional.map_gather``."""

    def __init__(
        self,
        model: Model,
        args_list: Optional[Sequence[Any]] = None,
        kwargs_list: Optional[Sequence[Dict[str, Any]]] = None,
        concurrency: int = 4,
        timeout: Optional[float] = None,
        return_exceptions: bool = False,
    ) -> None: ...
    def gather(self) -> Tuple[Any, ...]: ...
    def agather(self) -> Awaitable[Tuple[Any, ...]]: ...

Convention = Literal["transparent", "white", "black"]
Box = Tuple[int, int, int, int]

class Mask:
    """An edit mask (transparent = edit when sent)."""

    @staticmethod
    def load(source: ImageLike, convention: str = "transparent") -> Mask: ...
    @property
    def size(self) -> Tuple[int, int]: ...
    @property
    def edit_fraction(self) -> float: ...
    @property
    def bounding_box(self) -> Optional[Box]: ...
    def feather(self, sigma: float) -> Mask: ...
    def invert(self) -> Mask: ...
    def dilate(self, radius: int) -> Mask: ...
    def erode(self, radius: int) -> Mask: ...
    def union(self, other: Mask) -> Mask: ...
    def to_png(self, convention: str = "transparent") -> bytes: ...
    def save(self, path: Union[str, "os.PathLike[str]"], convention: str = "transparent") -> Path: ...
    def __bytes__(self) -> bytes: ...

class Prepared:
    """A prepared image (and mask)."""

    @property
    def image(self) -> bytes: ...
    @property
    def mask(self) -> Optional[bytes]: ...
    @property
    def changes(self) -> List[str]: ...
    @property
    def report(self) -> Dict[str, Any]: ...
    def save(self, path: Union[str, "os.PathLike[str]"], mask_path: Optional[Union[str, "os.PathLike[str]"]] = None) -> Path: ...
    def __bytes__(self) -> bytes: ...

def shape_mask(
    shape: Literal["rectangle", "ellipse", "polygon"],
    geometry: Any,
    size: Optional[Tuple[int, int]] = None,
    like: Optional[ImageLike] = None,
) -> Mask: ...
def prepare(
    image: ImageLike,
    output: Optional[Union[str, "os.PathLike[str]"]] = None,
    *,
    size: Union[int, Tuple[int, int], None] = 1024,
    fit: str = "stretch",
    format: str = "png",
    max_bytes: Optional[int] = 4194304,
    mask: Optional[ImageLike] = None,
) -> Prepared: ...
def compare(
    before: ImageLike,
    after: ImageLike,
    mask: Optional[ImageLike] = None,
    output: Optional[Union[str, "os.PathLike[str]"]] = None,
) -> bytes: ...
def leak_report(before: ImageLike, after: ImageLike, mask: ImageLike, threshold: int = 8) -> Dict[str, Any]: ...
