"""Read a GGUF file's metadata and tensor table without loading its weights.

GGUF is llama.cpp's model format (spec: ggml's ``docs/gguf.md``). Little-endian: the magic
``GGUF``, a u32 version (2 or 3), u64 tensor and key/value counts, the key/value metadata,
one info record per tensor, then the tensor data, which starts at the next multiple of
``general.alignment`` (32 by default). Only the header is read, through a buffered file,
so a multi-gigabyte model costs a few megabytes of reads at most.
"""

from __future__ import annotations

import math
import struct
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, NamedTuple

from rolecast.errors import ConfigError

__all__ = ["GGUFArray", "GGUFInfo", "TensorInfo", "read_gguf"]

MAGIC = b"GGUF"
SUPPORTED_VERSIONS = (2, 3)
DEFAULT_ALIGNMENT = 32
MAX_DIMS = 8  # ggml itself uses 4; anything far above is a corrupt file, not a tensor

_STRING = 8
_ARRAY = 9
_SCALARS: dict[int, struct.Struct] = {
    0: struct.Struct("<B"),  # u8
    1: struct.Struct("<b"),  # i8
    2: struct.Struct("<H"),  # u16
    3: struct.Struct("<h"),  # i16
    4: struct.Struct("<I"),  # u32
    5: struct.Struct("<i"),  # i32
    6: struct.Struct("<f"),  # f32
    7: struct.Struct("<?"),  # bool
    10: struct.Struct("<Q"),  # u64
    11: struct.Struct("<q"),  # i64
    12: struct.Struct("<d"),  # f64
}
_U32 = _SCALARS[4]
_U64 = _SCALARS[10]

# ggml tensor type id -> (elements per block, bytes per block), from ggml's type traits;
# used to check that every tensor's data lies inside the file
_GGML_BLOCKS: dict[int, tuple[int, int]] = {
    0: (1, 4),  # F32
    1: (1, 2),  # F16
    2: (32, 18),  # Q4_0
    3: (32, 20),  # Q4_1
    6: (32, 22),  # Q5_0
    7: (32, 24),  # Q5_1
    8: (32, 34),  # Q8_0
    9: (32, 36),  # Q8_1
    10: (256, 84),  # Q2_K
    11: (256, 110),  # Q3_K
    12: (256, 144),  # Q4_K
    13: (256, 176),  # Q5_K
    14: (256, 210),  # Q6_K
    15: (256, 292),  # Q8_K
    16: (256, 66),  # IQ2_XXS
    17: (256, 74),  # IQ2_XS
    18: (256, 98),  # IQ3_XXS
    19: (256, 50),  # IQ1_S
    20: (32, 18),  # IQ4_NL
    21: (256, 110),  # IQ3_S
    22: (256, 82),  # IQ2_S
    23: (256, 136),  # IQ4_XS
    24: (1, 1),  # I8
    25: (1, 2),  # I16
    26: (1, 4),  # I32
    27: (1, 8),  # I64
    28: (1, 8),  # F64
    29: (256, 56),  # IQ1_M
    30: (1, 2),  # BF16
    34: (256, 54),  # TQ1_0
    35: (256, 66),  # TQ2_0
    39: (32, 17),  # MXFP4
}


@dataclass(frozen=True)
class GGUFArray:
    """A metadata array too long to keep (e.g. ``tokenizer.ggml.tokens``): type and length."""

    item_type: int
    length: int

    def __len__(self) -> int:
        return self.length


class TensorInfo(NamedTuple):
    """One tensor of the file: name, shape (ggml order, fastest dimension first), type id."""

    name: str
    shape: tuple[int, ...]
    ggml_type: int


@dataclass(frozen=True)
class GGUFInfo:
    """What the header of a GGUF file says; nothing of the tensor data is read."""

    path: Path
    version: int
    metadata: dict[str, Any]
    tensors: list[TensorInfo]
    data_offset: int
    file_size: int

    @property
    def n_params(self) -> int:
        """Parameter count: the element counts of all tensors (tied weights stored once)."""
        return sum(math.prod(tensor.shape) for tensor in self.tensors)

    @property
    def data_bytes(self) -> int:
        """Bytes of tensor data: the file from the aligned data offset to its end."""
        return self.file_size - self.data_offset


class _Reader:
    """Little-endian reads from a buffered file; a short read is a :class:`ConfigError`."""

    def __init__(self, handle: BinaryIO, path: Path, size: int, max_array_items: int) -> None:
        self.handle = handle
        self.path = path
        self.size = size
        self.max_array_items = max_array_items

    def fail(self, problem: str) -> ConfigError:
        return ConfigError(
            f"{self.path}: not a valid GGUF file ({problem} at byte {self.handle.tell()}); "
            "re-download or re-convert the model"
        )

    def read(self, n: int) -> bytes:
        data = self.handle.read(n)
        if len(data) != n:
            raise self.fail(f"file truncated: wanted {n} bytes, got {len(data)}")
        return data

    def skip(self, n: int) -> None:
        if self.handle.tell() + n > self.size:
            raise self.fail(f"file truncated: cannot skip {n} bytes")
        self.handle.seek(n, 1)

    def u32(self) -> int:
        return int(_U32.unpack(self.read(4))[0])

    def u64(self) -> int:
        return int(_U64.unpack(self.read(8))[0])

    def string(self) -> str:
        length = self.u64()
        if length > self.size:
            raise self.fail(f"string length {length} exceeds the file size")
        return self.read(length).decode("utf-8", errors="replace")

    def value(self, value_type: int) -> Any:
        scalar = _SCALARS.get(value_type)
        if scalar is not None:
            return scalar.unpack(self.read(scalar.size))[0]
        if value_type == _STRING:
            return self.string()
        if value_type == _ARRAY:
            item_type, count = self.u32(), self.u64()
            if count > self.max_array_items:
                self.skip_items(item_type, count)
                return GGUFArray(item_type, count)
            return [self.value(item_type) for _ in range(count)]
        raise self.fail(f"unknown metadata value type {value_type}")

    def skip_items(self, item_type: int, count: int) -> None:
        scalar = _SCALARS.get(item_type)
        if scalar is not None:
            self.skip(scalar.size * count)
        elif item_type == _STRING:
            self.skip_strings(count)
        elif item_type == _ARRAY:
            for _ in range(count):
                self.skip_items(self.u32(), self.u64())
        else:
            raise self.fail(f"unknown array item type {item_type}")

    def skip_strings(self, count: int) -> None:
        """Skip ``count`` length-prefixed strings, walking 1 MiB chunks instead of seeking."""
        unpack_from = _U64.unpack_from
        while count:
            start = self.handle.tell()
            chunk = self.handle.read(1 << 20)
            end, pos = len(chunk), 0
            while count and pos + 8 <= end:
                after = pos + 8 + unpack_from(chunk, pos)[0]
                if after > end:
                    break
                pos, count = after, count - 1
            self.handle.seek(start + pos)
            if count and pos == 0:  # a string longer than a chunk, or the file ends here
                self.skip(self.u64())
                count -= 1


def read_gguf(path: str | Path, *, max_array_items: int = 1024) -> GGUFInfo:
    """Read the metadata and tensor table of the GGUF file at ``path``.

    Arrays longer than ``max_array_items`` (vocabularies, merges) are skipped and kept as
    a :class:`GGUFArray` holding only their length; per-layer arrays are kept in full.

    Raises:
        ConfigError: the file cannot be opened, is not GGUF, or is truncated.
    """
    path = Path(path)
    try:
        handle = path.open("rb", buffering=1 << 20)
    except OSError as error:
        raise ConfigError(f"cannot read GGUF file {path}: {error.strerror or error}") from None
    with handle:
        size = path.stat().st_size
        reader = _Reader(handle, path, size, max_array_items)
        magic = handle.read(4)
        if magic != MAGIC:
            raise ConfigError(f"{path} is not a GGUF file: it starts with {magic!r}, not {MAGIC!r}")
        version = reader.u32()
        if version not in SUPPORTED_VERSIONS:
            if int.from_bytes(version.to_bytes(4, "little"), "big") in SUPPORTED_VERSIONS:
                raise ConfigError(f"{path}: big-endian GGUF files are not supported")
            raise ConfigError(
                f"{path}: GGUF version {version} is not supported (only "
                f"{', '.join(map(str, SUPPORTED_VERSIONS))}); re-convert with a recent llama.cpp"
            )
        tensor_count, kv_count = reader.u64(), reader.u64()
        metadata: dict[str, Any] = {}
        for _ in range(kv_count):
            key = reader.string()
            metadata[key] = reader.value(reader.u32())
        tensors = []
        data_end = 0  # end of the last tensor's data, relative to the data section
        for _ in range(tensor_count):
            name = reader.string()
            n_dims = reader.u32()
            if n_dims > MAX_DIMS:
                raise reader.fail(f"tensor {name!r} claims {n_dims} dimensions")
            shape = tuple(reader.u64() for _ in range(n_dims))
            ggml_type, offset = reader.u32(), reader.u64()
            tensors.append(TensorInfo(name, shape, ggml_type))
            block_size, block_bytes = _GGML_BLOCKS.get(ggml_type, (1, 0))  # unknown: offset only
            data_end = max(data_end, offset + math.prod(shape) // block_size * block_bytes)
        alignment = metadata.get("general.alignment", DEFAULT_ALIGNMENT)
        if not isinstance(alignment, int) or alignment <= 0:
            raise reader.fail(f"general.alignment is {alignment!r}")
        data_offset = -(-handle.tell() // alignment) * alignment
        if tensors and data_offset + data_end > size:
            raise reader.fail(
                f"file truncated: tensor data ends at byte {data_offset + data_end}, "
                f"the file at {size}"
            )
    return GGUFInfo(path, version, metadata, tensors, data_offset, size)
