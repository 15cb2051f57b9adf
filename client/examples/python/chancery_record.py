#!/usr/bin/env python3
"""Build, encode and sign Chancery records in Python, from docs/PROOFS.md alone.

This module is an example for integrators: copy it into a project that
needs to submit records to a Chancery chain from a language other than
Rust. It needs only the standard library and the ``cryptography`` package
(for Ed25519)::

    pip install cryptography          # or: apt-get install python3-cryptography

What it does, following docs/PROOFS.md:

* section 1 and 3: the canonical encoding of a ``Record`` and a
  ``SignedRecord`` (fixed-width little-endian integers; texts, byte strings
  and lists prefixed by a ``u64`` length; enums by a ``u32`` variant index);
* section 2: the ``KeyId`` of a public key (the first 16 bytes of
  ``blake3("chancery/v1/key-id" || 0x00 || public key)``) and the record id
  (``blake3(encode(SignedRecord))``). BLAKE3 is not in Python's standard
  library, so a small pure-Python BLAKE3 is included below;
* section 4: the signing message
  ``"chancery/v1/record" || 0x00 || chain id (32 bytes) || encode(Record)``,
  signed with Ed25519 (RFC 8032, deterministic: the same key and record give
  the same signature as the Rust code);
* reading a Chancery secret key file (``chancery keygen`` /
  ``types/src/crypto/keyfile.rs``).

The bytes that ``RecordService.SubmitRecord`` takes in its ``signed_record``
field are ``SignedRecord.to_canonical()``. ``submit.py`` beside this file
shows a complete submission over gRPC.

Example::

    from chancery_record import LicenceIssue, Record, read_secret_key, sign

    key = read_secret_key("issuer.key")
    record = Record(
        kind=LicenceIssue(licence_class="driving", valid_from=now, valid_until=now + year),
        issuer="transport", key_id=key.key_id, subject="DL-1",
        body=b'{"holder_ref":"..."}', timestamp=now, nonce=now)
    signed = sign(record, key.seed, chain_id)     # chain_id: 32 bytes
    request_bytes = signed.to_canonical()
    print(signed.record_id_hex())

Every kind but ``governance`` is supported (governance records carry
actions and admin approvals; build those with the Rust tools).

Run as a script it has one mode, used by the cross-language test
(``tests/tests/python_client.rs``)::

    python3 chancery_record.py --selftest-json INPUT.json

INPUT holds ``{"chain_id": hex, "key_file": path, "records": [record JSON,
...]}`` (records in the JSON form the API returns as ``record_json``'s
``record``); the script prints, as JSON, the public key and key id it read
from the key file and, for each record, its canonical encoding, the signing
message, the canonical signed record and the record id, all in hex.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import stat
import struct
import sys
from dataclasses import dataclass, field
from typing import List, Optional, Union

__all__ = [
    "MAX_AGENCY_ID", "MAX_SUBJECT", "MAX_LABEL", "MAX_BODY", "MAX_REFERENCES",
    "RECORD_TAG", "KEY_ID_TAG",
    "LicenceIssue", "LicenceAmend", "LicenceSuspend", "LicenceReinstate",
    "LicenceRevoke", "GrantCreate", "GrantRevoke", "AccessLog", "PayloadErase",
    "Record", "SignedRecord", "SecretKey",
    "blake3", "key_id", "public_key", "signing_bytes", "sign",
    "read_secret_key", "kind_from_json", "KeyFileError",
]

# ---------------------------------------------------------------------------
# Bounds (types/src/limits.rs, docs/PROOFS.md section 1)

MAX_AGENCY_ID = 32   # characters of a-z 0-9 '-', first a-z
MAX_SUBJECT = 128    # bytes of UTF-8
MAX_LABEL = 64       # bytes of UTF-8
MAX_BODY = 65536     # bytes (the chain's policy may allow less)
MAX_REFERENCES = 16  # record ids

#: Domain tag of record signatures (docs/PROOFS.md section 4).
RECORD_TAG = b"chancery/v1/record"
#: Domain tag of key ids (docs/PROOFS.md section 2).
KEY_ID_TAG = b"chancery/v1/key-id"

_U32_MAX = 0xFFFFFFFF
_U64_MAX = 0xFFFFFFFFFFFFFFFF
_AGENCY_ID = re.compile(r"[a-z][a-z0-9-]*\Z")


# ---------------------------------------------------------------------------
# BLAKE3 (hash mode, 32-byte output), after the BLAKE3 specification's
# reference implementation. Pure Python: about a second per few hundred KiB,
# plenty for records (at most ~66 KiB). A project that already depends on
# the `blake3` package may call `blake3.blake3(data).digest()` instead.

_IV = (0x6A09E667, 0xBB67AE85, 0x3C6EF372, 0xA54FF53A,
       0x510E527F, 0x9B05688C, 0x1F83D9AB, 0x5BE0CD19)
_PERMUTATION = (2, 6, 3, 10, 7, 0, 4, 13, 1, 11, 12, 5, 9, 14, 15, 8)
_CHUNK_START, _CHUNK_END, _PARENT, _ROOT = 1, 2, 4, 8
_CHUNK_LEN = 1024
_BLOCK_LEN = 64
_M32 = 0xFFFFFFFF


def _schedules():
    """The message word order of each of the 7 rounds (the permutation
    applied 0..6 times)."""
    order = list(range(16))
    out = []
    for _ in range(7):
        out.append(tuple(order))
        order = [order[i] for i in _PERMUTATION]
    return tuple(out)


_SCHEDULES = _schedules()
# (a, b, c, d) of the eight G calls of a round: four columns, four diagonals.
_G_LANES = ((0, 4, 8, 12), (1, 5, 9, 13), (2, 6, 10, 14), (3, 7, 11, 15),
            (0, 5, 10, 15), (1, 6, 11, 12), (2, 7, 8, 13), (3, 4, 9, 14))


def _compress(cv, block_words, counter, block_len, flags):
    """The BLAKE3 compression function; returns the first 8 output words
    (all that hashing to 32 bytes needs)."""
    s = [cv[0], cv[1], cv[2], cv[3], cv[4], cv[5], cv[6], cv[7],
         _IV[0], _IV[1], _IV[2], _IV[3],
         counter & _M32, (counter >> 32) & _M32, block_len, flags]
    for order in _SCHEDULES:
        m = [block_words[i] for i in order]
        for g, (a, b, c, d) in enumerate(_G_LANES):
            x, y = m[2 * g], m[2 * g + 1]
            sa = (s[a] + s[b] + x) & _M32
            sd = s[d] ^ sa
            sd = ((sd >> 16) | (sd << 16)) & _M32
            sc = (s[c] + sd) & _M32
            sb = s[b] ^ sc
            sb = ((sb >> 12) | (sb << 20)) & _M32
            sa = (sa + sb + y) & _M32
            sd ^= sa
            sd = ((sd >> 8) | (sd << 24)) & _M32
            sc = (sc + sd) & _M32
            sb ^= sc
            sb = ((sb >> 7) | (sb << 25)) & _M32
            s[a], s[b], s[c], s[d] = sa, sb, sc, sd
    return [s[i] ^ s[i + 8] for i in range(8)]


def _words(block):
    return struct.unpack("<16I", block.ljust(_BLOCK_LEN, b"\0"))


def _chunk_output(chunk, chunk_index):
    """The compression inputs of a chunk's last block (not yet compressed:
    the root is compressed with an extra flag)."""
    blocks = [chunk[i:i + _BLOCK_LEN] for i in range(0, len(chunk), _BLOCK_LEN)] or [b""]
    cv = _IV
    last = len(blocks) - 1
    for j, block in enumerate(blocks):
        flags = (_CHUNK_START if j == 0 else 0) | (_CHUNK_END if j == last else 0)
        if j == last:
            return (cv, _words(block), chunk_index, len(block), flags)
        cv = _compress(cv, _words(block), chunk_index, _BLOCK_LEN, flags)
    raise AssertionError("unreachable")


def _subtree_output(data, first_chunk):
    """Compression inputs of the root node of the subtree over `data`, whose
    first chunk has index `first_chunk`. The left subtree holds the largest
    power of two of chunks that leaves the right one non-empty."""
    chunks = max(1, -(-len(data) // _CHUNK_LEN))
    if chunks == 1:
        return _chunk_output(data, first_chunk)
    left = 1 << ((chunks - 1).bit_length() - 1)
    split = left * _CHUNK_LEN
    lcv = _compress(*_subtree_output(data[:split], first_chunk))
    rcv = _compress(*_subtree_output(data[split:], first_chunk + left))
    return (_IV, tuple(lcv + rcv), 0, _BLOCK_LEN, _PARENT)


def blake3(data: bytes) -> bytes:
    """BLAKE3-256 of `data` (the hash Chancery calls ``H``)."""
    cv, words, _counter, block_len, flags = _subtree_output(bytes(data), 0)
    return struct.pack("<8I", *_compress(cv, words, 0, block_len, flags | _ROOT))


# ---------------------------------------------------------------------------
# Canonical encoding primitives (docs/PROOFS.md section 1)

def _u32(n: int) -> bytes:
    if not 0 <= n <= _U32_MAX:
        raise ValueError(f"{n} is not a u32")
    return struct.pack("<I", n)


def _u64(n: int) -> bytes:
    if isinstance(n, bool) or not isinstance(n, int) or not 0 <= n <= _U64_MAX:
        raise ValueError(f"{n!r} is not a u64")
    return struct.pack("<Q", n)


def _fixed(b: bytes, n: int, what: str) -> bytes:
    b = bytes(b)
    if len(b) != n:
        raise ValueError(f"{what} must be {n} bytes, got {len(b)}")
    return b


def _bytes(b: bytes, max_len: int, what: str) -> bytes:
    b = bytes(b)
    if len(b) > max_len:
        raise ValueError(f"{what} is {len(b)} bytes, over its bound of {max_len}")
    return _u64(len(b)) + b


def _text(s: str, max_len: int, what: str) -> bytes:
    if not isinstance(s, str):
        raise ValueError(f"{what} must be a str")
    return _bytes(s.encode("utf-8"), max_len, what)


def _agency(s: str, what: str = "agency id") -> bytes:
    if not isinstance(s, str) or len(s) > MAX_AGENCY_ID or not _AGENCY_ID.match(s):
        raise ValueError(f"invalid {what} {s!r}: use 1 to {MAX_AGENCY_ID} characters "
                         "from a-z, 0-9 and '-', starting with a letter")
    return _text(s, MAX_AGENCY_ID, what)


def _variant(index: int) -> bytes:
    return _u32(index)


# ---------------------------------------------------------------------------
# Record kinds (types/src/record.rs, RecordKind). `INDEX` is the variant
# index (declaration order); `TYPE` the `type` tag of the JSON form.

@dataclass(frozen=True)
class LicenceIssue:
    """Issue licence `subject` of `licence_class`, valid in [valid_from, valid_until)."""
    licence_class: str
    valid_from: int
    valid_until: int
    INDEX = 0
    TYPE = "licence_issue"

    def encode(self) -> bytes:
        return (_variant(self.INDEX) + _text(self.licence_class, MAX_LABEL, "class")
                + _u64(self.valid_from) + _u64(self.valid_until))

    def to_json(self) -> dict:
        return {"type": self.TYPE, "class": self.licence_class,
                "valid_from": self.valid_from, "valid_until": self.valid_until}


@dataclass(frozen=True)
class _NoFields:
    INDEX = -1
    TYPE = ""

    def encode(self) -> bytes:
        return _variant(self.INDEX)

    def to_json(self) -> dict:
        return {"type": self.TYPE}


class LicenceAmend(_NoFields):
    """Amend licence `subject` (the new terms are in the body)."""
    INDEX, TYPE = 1, "licence_amend"


class LicenceSuspend(_NoFields):
    """Suspend licence `subject`."""
    INDEX, TYPE = 2, "licence_suspend"


class LicenceReinstate(_NoFields):
    """Lift a suspension of licence `subject`."""
    INDEX, TYPE = 3, "licence_reinstate"


class LicenceRevoke(_NoFields):
    """Revoke licence `subject`, permanently."""
    INDEX, TYPE = 4, "licence_revoke"


@dataclass(frozen=True)
class GrantCreate:
    """Grant `grantee` access to `dataset`; the record's subject is the grant id."""
    grantee: str
    dataset: str
    purpose: str
    scope: str
    valid_from: int
    valid_until: int
    INDEX = 5
    TYPE = "grant_create"

    def encode(self) -> bytes:
        return (_variant(self.INDEX) + _agency(self.grantee, "grantee")
                + _text(self.dataset, MAX_LABEL, "dataset")
                + _text(self.purpose, MAX_LABEL, "purpose")
                + _text(self.scope, MAX_LABEL, "scope")
                + _u64(self.valid_from) + _u64(self.valid_until))

    def to_json(self) -> dict:
        return {"type": self.TYPE, "grantee": self.grantee, "dataset": self.dataset,
                "purpose": self.purpose, "scope": self.scope,
                "valid_from": self.valid_from, "valid_until": self.valid_until}


class GrantRevoke(_NoFields):
    """Revoke grant `subject`."""
    INDEX, TYPE = 6, "grant_revoke"


@dataclass(frozen=True)
class AccessLog:
    """Log one access to `dataset` under grant `grant` (a grant's subject);
    the record's subject is the access-event id."""
    grant: str
    dataset: str
    INDEX = 7
    TYPE = "access_log"

    def encode(self) -> bytes:
        return (_variant(self.INDEX) + _text(self.grant, MAX_SUBJECT, "grant")
                + _text(self.dataset, MAX_LABEL, "dataset"))

    def to_json(self) -> dict:
        return {"type": self.TYPE, "grant": self.grant, "dataset": self.dataset}


# Variant 8 is Governance: not built by this example.

@dataclass(frozen=True)
class PayloadErase:
    """Erase the off-chain payload with this 32-byte commitment (docs/ERASURE.md)."""
    commitment: bytes
    INDEX = 9
    TYPE = "payload_erase"

    def encode(self) -> bytes:
        return _variant(self.INDEX) + _fixed(self.commitment, 32, "commitment")

    def to_json(self) -> dict:
        return {"type": self.TYPE, "commitment": bytes(self.commitment).hex()}


Kind = Union[LicenceIssue, LicenceAmend, LicenceSuspend, LicenceReinstate, LicenceRevoke,
             GrantCreate, GrantRevoke, AccessLog, PayloadErase]

_NO_FIELD_KINDS = {k.TYPE: k for k in (LicenceAmend, LicenceSuspend, LicenceReinstate,
                                       LicenceRevoke, GrantRevoke)}


def kind_from_json(obj: dict) -> Kind:
    """A kind from its JSON form: an object tagged by ``type``."""
    t = obj.get("type")
    if t in _NO_FIELD_KINDS:
        return _NO_FIELD_KINDS[t]()
    if t == "licence_issue":
        return LicenceIssue(obj["class"], obj["valid_from"], obj["valid_until"])
    if t == "grant_create":
        return GrantCreate(obj["grantee"], obj["dataset"], obj["purpose"], obj["scope"],
                           obj["valid_from"], obj["valid_until"])
    if t == "access_log":
        return AccessLog(obj["grant"], obj["dataset"])
    if t == "payload_erase":
        return PayloadErase(bytes.fromhex(obj["commitment"]))
    if t == "governance":
        raise ValueError("governance records are not supported by this example")
    raise ValueError(f"unknown record kind {t!r}")


# ---------------------------------------------------------------------------
# Records (docs/PROOFS.md section 3)

@dataclass
class Record:
    """An unsigned record. Field order is the encoding order.

    kind        one of the kind classes above
    issuer      the issuing agency id, e.g. "transport"
    key_id      16 bytes: `key_id(public key)` of the signing issuer key
    subject     licence number, grant id or access-event id (<= 128 UTF-8 bytes)
    body        free-form bytes (<= 65,536; the chain's policy may allow less);
                refer to personal data by hash, never store it
    references  record ids (32 bytes each) of earlier records, at most 16
    timestamp   milliseconds since the Unix epoch (UTC)
    nonce       any u64; makes otherwise identical records distinct
    """
    kind: Kind
    issuer: str
    key_id: bytes
    subject: str
    body: bytes = b""
    references: List[bytes] = field(default_factory=list)
    timestamp: int = 0
    nonce: int = 0

    def to_canonical(self) -> bytes:
        """The canonical encoding, ``encode(Record)``. Raises ValueError for
        a field over its bound or otherwise invalid."""
        if len(self.references) > MAX_REFERENCES:
            raise ValueError(f"{len(self.references)} references, over the bound of "
                             f"{MAX_REFERENCES}")
        return b"".join([
            self.kind.encode(),
            _agency(self.issuer, "issuer"),
            _fixed(self.key_id, 16, "key_id"),
            _text(self.subject, MAX_SUBJECT, "subject"),
            _bytes(self.body, MAX_BODY, "body"),
            _u64(len(self.references)),
            *(_fixed(r, 32, "reference") for r in self.references),
            _u64(self.timestamp),
            _u64(self.nonce),
        ])

    def to_json(self) -> dict:
        """The JSON form the API uses (``record_json``'s ``record``)."""
        return {"kind": self.kind.to_json(), "issuer": self.issuer,
                "key_id": bytes(self.key_id).hex(), "subject": self.subject,
                "body": bytes(self.body).hex(),
                "references": [bytes(r).hex() for r in self.references],
                "timestamp": self.timestamp, "nonce": self.nonce}

    @classmethod
    def from_json(cls, obj: dict) -> "Record":
        """A record from the API's JSON form: ids, key id and body in hex."""
        return cls(kind=kind_from_json(obj["kind"]), issuer=obj["issuer"],
                   key_id=bytes.fromhex(obj["key_id"]), subject=obj["subject"],
                   body=bytes.fromhex(obj["body"]),
                   references=[bytes.fromhex(r) for r in obj.get("references", [])],
                   timestamp=obj["timestamp"], nonce=obj["nonce"])


@dataclass
class SignedRecord:
    """A record with its issuer's 64-byte Ed25519 signature (R || S)."""
    record: Record
    signature: bytes

    def to_canonical(self) -> bytes:
        """``encode(SignedRecord)``: what ``SubmitRecord.signed_record`` takes."""
        return self.record.to_canonical() + _fixed(self.signature, 64, "signature")

    def record_id(self) -> bytes:
        """The record id: ``blake3(encode(SignedRecord))``, 32 bytes."""
        return blake3(self.to_canonical())

    def record_id_hex(self) -> str:
        """The record id as the API shows it: 64 lowercase hex digits."""
        return self.record_id().hex()


# ---------------------------------------------------------------------------
# Keys and signatures (docs/PROOFS.md sections 2 and 4)

def _ed25519():
    try:
        from cryptography.hazmat.primitives.asymmetric import ed25519
        from cryptography.hazmat.primitives import serialization
    except ImportError as e:  # pragma: no cover - depends on the machine
        raise ImportError("chancery_record needs the `cryptography` package for Ed25519: "
                          "pip install cryptography (or apt-get install "
                          "python3-cryptography)") from e
    return ed25519, serialization


def public_key(seed: bytes) -> bytes:
    """The 32-byte Ed25519 public key of a 32-byte secret seed."""
    ed25519, serialization = _ed25519()
    sk = ed25519.Ed25519PrivateKey.from_private_bytes(_fixed(seed, 32, "seed"))
    return sk.public_key().public_bytes(serialization.Encoding.Raw,
                                        serialization.PublicFormat.Raw)


def key_id(public: bytes) -> bytes:
    """KeyId: the first 16 bytes of ``blake3("chancery/v1/key-id" || 0x00 || public)``."""
    return blake3(KEY_ID_TAG + b"\0" + _fixed(public, 32, "public key"))[:16]


def signing_bytes(record: Record, chain_id: bytes) -> bytes:
    """The exact message an issuer signs:
    ``"chancery/v1/record" || 0x00 || chain_id (32 bytes) || encode(record)``."""
    return RECORD_TAG + b"\0" + _fixed(chain_id, 32, "chain id") + record.to_canonical()


def sign(record: Record, seed: bytes, chain_id: bytes) -> SignedRecord:
    """Signs `record` for chain `chain_id` with the Ed25519 key of `seed`.

    Checks first that ``record.key_id`` names that key: a node would refuse
    a record whose key id is not the signing key's (``INVALID_ARGUMENT``)."""
    ed25519, _ = _ed25519()
    sk = ed25519.Ed25519PrivateKey.from_private_bytes(_fixed(seed, 32, "seed"))
    expected = key_id(public_key(seed))
    if bytes(record.key_id) != expected:
        raise ValueError(f"record.key_id {bytes(record.key_id).hex()} is not the id of the "
                         f"signing key ({expected.hex()})")
    return SignedRecord(record, sk.sign(signing_bytes(record, chain_id)))


# ---------------------------------------------------------------------------
# Key files (types/src/crypto/keyfile.rs)
#
#   {"type": "chancery-ed25519-secret-key", "public": "<64 hex>", "secret": "<64 hex>"}
#
# `secret` is the 32-byte Ed25519 seed. The file must not be readable or
# writable by group or others (mode 0600), as the Rust tools require.

SECRET_KEY_TYPE = "chancery-ed25519-secret-key"


class KeyFileError(Exception):
    """A key file that is missing, too open, of another type or corrupt."""


@dataclass(frozen=True)
class SecretKey:
    """A secret key read from a key file: the seed, its public key and key id."""
    seed: bytes = field(repr=False)
    public: bytes
    key_id: bytes


def read_secret_key(path: str) -> SecretKey:
    """Reads a Chancery secret key file, with the checks the Rust tools make:
    permissions (no group/other access), ``type``, exactly the fields
    ``type``, ``public`` and ``secret``, 64 hex digits of secret, and that
    ``public`` is the public key of ``secret``."""
    try:
        mode = stat.S_IMODE(os.stat(path).st_mode)
    except FileNotFoundError:
        raise KeyFileError(f"key file {path} does not exist") from None
    if mode & 0o077:
        raise KeyFileError(f"key file {path} has permissions {mode:o}; a secret key file must "
                           f"not be accessible to group or others (chmod 600 {path})")
    try:
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise KeyFileError(f"key file {path} is corrupt: {e}") from None
    if not isinstance(doc, dict):
        raise KeyFileError(f"key file {path} is corrupt: not a JSON object")
    unknown = set(doc) - {"type", "public", "secret"}
    if unknown:
        raise KeyFileError(f"key file {path} is corrupt: unknown field(s) {sorted(unknown)}")
    if doc.get("type") != SECRET_KEY_TYPE:
        raise KeyFileError(f"key file {path} holds a {doc.get('type')!r}, expected a "
                           f"{SECRET_KEY_TYPE!r}")
    secret = doc.get("secret")
    if not isinstance(secret, str) or not re.fullmatch(r"[0-9a-fA-F]{64}", secret):
        raise KeyFileError(f"key file {path} is corrupt: field `secret` is not 64 hex digits")
    seed = bytes.fromhex(secret)
    public = public_key(seed)
    if not isinstance(doc.get("public"), str) or doc["public"].lower() != public.hex():
        raise KeyFileError(f"key file {path} is corrupt: field `public` does not match the "
                           "secret key (the file was edited or damaged)")
    return SecretKey(seed=seed, public=public, key_id=key_id(public))


# ---------------------------------------------------------------------------
# Self-test mode for tests/tests/python_client.rs

def _selftest(path: str) -> dict:
    with open(path, encoding="utf-8") as f:
        spec = json.load(f)
    chain_id = bytes.fromhex(spec["chain_id"])
    key = read_secret_key(spec["key_file"])
    results = []
    for obj in spec["records"]:
        record = Record.from_json(obj)
        signed = sign(record, key.seed, chain_id)
        results.append({
            "record": record.to_canonical().hex(),
            "signing_bytes": signing_bytes(record, chain_id).hex(),
            "signed_record": signed.to_canonical().hex(),
            "record_id": signed.record_id_hex(),
        })
    return {"public": key.public.hex(), "key_id": key.key_id.hex(),
            "blake3": {str(n): blake3(bytes(i % 251 for i in range(n))).hex()
                       for n in spec.get("blake3_lengths", [])},
            "results": results}


def main(argv: Optional[List[str]] = None) -> int:
    p = argparse.ArgumentParser(description="Chancery record encoding and signing "
                                "(see the module docstring).")
    p.add_argument("--selftest-json", metavar="FILE", required=True,
                   help="encode and sign the records in FILE; print the results as JSON")
    a = p.parse_args(argv)
    try:
        out = _selftest(a.selftest_json)
    except (KeyFileError, ValueError, KeyError, ImportError) as e:
        print(f"chancery_record: {type(e).__name__}: {e}", file=sys.stderr)
        return 1
    json.dump(out, sys.stdout)
    sys.stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
