"""Read R's ``.rda`` files with python3-rdata, including the parts it lacks.

python3-rdata 0.5 (Debian 12) parses R's XDR serialization but stops at a few
record types that Bioconductor objects carry, e.g. the ``ALL`` ExpressionSet:

- ``NAMESPACESXP``/``PACKAGESXP``/``PERSISTSXP`` (249/248/247): a reference to a
  namespace by name, written as ``0, n`` and ``n`` strings; R adds it to the
  reference table, so later ``REFSXP`` records may point at it;
- ``CLOSXP``/``PROMSXP`` (3/5): functions and promises (written like a pairlist:
  attributes, environment, formals, body), found in environments of S4 objects;
- ``BASEENV``/``BASENAMESPACE``/``MISSINGARG``/``UNBOUNDVALUE`` (241, 250-252),
  which have no payload.

:func:`parse_rda` subclasses the library's XDR parser to read those records
(namespaces become the string vector of their name, functions become ``NULL``:
data files never need them) and reads integer and double vectors with one
``numpy.frombuffer`` instead of one call per element (12,625 x 128 doubles in
well under a second).  Everything else, and the conversion to Python objects
(``rdata.conversion.convert``), is python3-rdata's own.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import struct
import warnings
from pathlib import Path
from typing import Any, Dict, List, Optional

import numpy as np

with warnings.catch_warnings():
    # python3-rdata 0.5 imports xdrlib, deprecated since Python 3.11
    warnings.simplefilter("ignore", DeprecationWarning)
    from rdata.parser import _parser as rparser

__all__ = ["RdaError", "parse_rda", "attributes_of", "deref", "symbol_name"]

_NAMESPACE_KINDS = frozenset({247, 248, 249})  # PERSIST, PACKAGE, NAMESPACE
_EMPTY_KINDS = frozenset({241, 250, 251, 252})  # BASEENV, BASENS, MISSING, UNBOUND
_FUNCTION_KINDS = frozenset({3, 5})  # CLOSXP, PROMSXP
_NUMERIC_KINDS = {13: (">i4", 4, np.int64), 14: (">f8", 8, np.float64)}
_INT_SIZE = 4
_RDA_MAGIC = (b"RDX2\n", b"RDX3\n")


class RdaError(ValueError):
    """An .rda file that is not R's XDR serialization or is truncated."""


def _null() -> rparser.RObject:
    info = rparser.RObjectInfo(rparser.RObjectType.NILVALUE, False, False, False, 0, 0)
    return rparser.RObject(info=info, value=None, attributes=None)


class _Parser(rparser.ParserXDR):
    """python3-rdata's XDR parser plus the record types listed above."""

    def parse_R_object(self, reference_list: Optional[List[Any]] = None) -> Any:
        if reference_list is None:
            reference_list = []
        (info_int,) = struct.unpack_from(">i", self.data, self.position)
        kind = info_int & 0xFF
        if kind in _NAMESPACE_KINDS:
            self.position += _INT_SIZE
            self.parse_int()  # always 0
            count = self.parse_int()
            names = [self.parse_R_object(reference_list) for _ in range(count)]
            info = rparser.RObjectInfo(rparser.RObjectType.STR, False, False, False, 0, 0)
            obj = rparser.RObject(info=info, value=names, attributes=None)
            reference_list.append(obj)
            return obj
        if kind in _EMPTY_KINDS:
            self.position += _INT_SIZE
            return _null()
        if kind in _FUNCTION_KINDS:
            info = rparser.parse_r_object_info(info_int)
            self.position += _INT_SIZE
            if info.attributes:
                self.parse_R_object(reference_list)
            if info.tag:
                self.parse_R_object(reference_list)
            self.parse_R_object(reference_list)
            self.parse_R_object(reference_list)
            return _null()
        if kind in _NUMERIC_KINDS:
            dtype, size, out = _NUMERIC_KINDS[kind]
            info = rparser.parse_r_object_info(info_int)
            self.position += _INT_SIZE
            length = self.parse_int()
            if length < 0 or self.position + length * size > len(self.data):
                raise RdaError(f"vector of length {length} runs past the end of the data")
            value = np.frombuffer(self.data, dtype=dtype, count=length,
                                  offset=self.position).astype(out)
            self.position += length * size
            attributes = self.parse_R_object(reference_list) if info.attributes else None
            return rparser.RObject(info=info, value=value, attributes=attributes)
        return super().parse_R_object(reference_list)


def parse_rda(path: Path) -> Any:
    """Parse an ``.rda``/``.RData`` file; returns python3-rdata's ``RData``."""
    raw = Path(path).read_bytes()
    if raw[:2] == b"\x1f\x8b":
        raw = gzip.decompress(raw)
    elif raw[:3] == b"BZh":
        raw = bz2.decompress(raw)
    elif raw[:6] == b"\xfd7zXZ\x00":
        raw = lzma.decompress(raw)
    if raw[:5] not in _RDA_MAGIC:
        raise RdaError(f"{path}: not an R data file (magic {raw[:5]!r})")
    body = memoryview(raw)[5:]
    if bytes(body[:2]) != b"X\n":
        raise RdaError(f"{path}: only R's XDR format is supported (found {bytes(body[:2])!r})")
    try:
        return _Parser(body[2:]).parse_all()
    except (struct.error, IndexError, EOFError) as exc:
        raise RdaError(f"{path}: truncated or corrupt R data ({exc})") from exc


def deref(obj: Any) -> Any:
    """Follow ``REFSXP`` records to the object they point at."""
    while obj is not None and obj.info.type == rparser.RObjectType.REF:
        obj = obj.referenced_object
    return obj


def symbol_name(obj: Any) -> str:
    """The name of a symbol (``SYMSXP``) record."""
    sym = deref(obj)
    return bytes(sym.value.value).decode("utf-8", "replace")


def attributes_of(obj: Any) -> Dict[str, Any]:
    """An object's attributes (S4 slots included) as name -> raw R object."""
    out: Dict[str, Any] = {}
    node = deref(obj).attributes
    while node is not None and node.info.type == rparser.RObjectType.LIST:
        out[symbol_name(node.tag)] = deref(node.value[0])
        node = deref(node.value[1])
    return out
