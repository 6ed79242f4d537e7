#!/usr/bin/env python3
"""Decrypts customers' emails from a shopkeep database, using only what docs/security.md states.

This is the proof that the security guide is exact: an independent implementation (Python's
`cryptography` package, no shopkeep code) follows the guide step by step and must end with
the plaintext. CI runs it on the database the checkout example wrote.

    SHOPKEEP_MASTER_KEY=<64 hex digits> python3 scripts/decrypt_email.py shop.db
    SHOPKEEP_MASTER_KEY=<64 hex digits> python3 scripts/decrypt_email.py shop.db --expect ana@example.com

It prints `<customer id> <email>` for every customer who is not erased, and checks on the way
that each row's auth MAC binds its password hash. With `--expect EMAIL` it also finds that
customer through the blind index and fails unless their email decrypts to EMAIL.
The database is opened read-only and nothing is written.
"""

import argparse
import hmac
import hashlib
import os
import sqlite3
import struct
import sys
import uuid

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF


def lp(data: bytes) -> bytes:
    """lp(x) = length of x as a big-endian u32 || x"""
    return struct.pack(">I", len(data)) + data


def open_sealed(key: bytes, purpose: bytes, parts: list, value: bytes) -> bytes:
    """Opens a sealed value: version (1) || key id (4) || nonce (12) || ciphertext || tag (16),
    with aad = lp(purpose) || version || key id || lp(part)..."""
    if len(value) < 1 + 4 + 12 + 16 or value[0] != 0x01:
        raise ValueError("not a version 1 sealed value")
    header, nonce, sealed = value[:5], value[5:17], value[17:]
    aad = lp(purpose) + header + b"".join(lp(p) for p in parts)
    return AESGCM(key).decrypt(nonce, sealed, aad)


def purpose_key(root: bytes, info: bytes) -> bytes:
    """HKDF-SHA256(ikm = root, salt = none, info = label, 32 bytes)"""
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=info).derive(root)


def mac(key: bytes, parts: list) -> bytes:
    """HMAC-SHA256 over length-prefixed parts."""
    return hmac.new(key, b"".join(lp(p) for p in parts), hashlib.sha256).digest()


def auth_value(value) -> bytes:
    """A bound column's value in an auth MAC: 0x00 for NULL, 0x01 || the stored bytes."""
    if value is None:
        return b"\x00"
    if isinstance(value, str):
        value = value.encode()
    return b"\x01" + value


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("db", help="the shopkeep database file")
    parser.add_argument("--expect", help="an email that must be found and decrypt exactly")
    args = parser.parse_args()
    master_hex = os.environ.get("SHOPKEEP_MASTER_KEY", "").strip()
    if len(master_hex) != 64:
        print("set SHOPKEEP_MASTER_KEY to the 64 hex digits of the master key", file=sys.stderr)
        return 2
    master = bytes.fromhex(master_hex)

    db = sqlite3.connect(f"file:{args.db}?mode=ro", uri=True)

    # 1. The root key, wrapped under the master key in shopkeep_meta, key 'root_key'.
    (wrapped_root,) = db.execute(
        "SELECT value FROM shopkeep_meta WHERE key = 'root_key'"
    ).fetchone()
    root = open_sealed(master, b"shopkeep/root-key", [], wrapped_root)

    # 2. The purpose keys.
    wrapping_key = purpose_key(root, b"shopkeep v1 data-key wrapping")
    blind_index_key = purpose_key(root, b"shopkeep v1 blind index")
    auth_mac_key = purpose_key(root, b"shopkeep v1 auth mac")

    def data_key(subject: str) -> bytes:
        # 3. The subject's data key, wrapped in shopkeep_data_keys.
        (wrapped,) = db.execute(
            "SELECT wrapped FROM shopkeep_data_keys WHERE subject = ?", (subject,)
        ).fetchone()
        return open_sealed(wrapping_key, b"shopkeep/data-key", [subject.encode()], wrapped)

    def email_of(row_id: bytes, sealed_email: bytes) -> str:
        # 4. The field, bound to table, column and the id's 16 raw bytes.
        subject = "customer:" + str(uuid.UUID(bytes=row_id))
        plain = open_sealed(
            data_key(subject),
            b"shopkeep/field",
            [b"shopkeep_customers", b"email", row_id],
            sealed_email,
        )
        return plain.decode()

    found = 0
    for row_id, sealed_email, password_hash, stored_mac in db.execute(
        "SELECT id, email, password_hash, auth_mac FROM shopkeep_customers"
        " WHERE erased_at IS NULL ORDER BY id"
    ):
        # 5. The auth MAC binds the password hash to the customer.
        expected = mac(
            auth_mac_key,
            [
                b"shopkeep/auth-mac v1",
                b"shopkeep_customers",
                b"id",
                auth_value(row_id),
                b"password_hash",
                auth_value(password_hash),
            ],
        )
        if not hmac.compare_digest(expected, stored_mac or b""):
            print(f"customer {uuid.UUID(bytes=row_id)}: auth MAC mismatch", file=sys.stderr)
            return 1
        print(uuid.UUID(bytes=row_id), email_of(row_id, sealed_email))
        found += 1

    if args.expect is not None:
        # 6. The blind index of the normalised email finds the row.
        normalised = args.expect.strip().lower()
        index = mac(blind_index_key, [b"customer_email", normalised.encode()])
        row = db.execute(
            "SELECT id, email FROM shopkeep_customers WHERE email_index = ?", (index,)
        ).fetchone()
        if row is None:
            print(f"no customer has the blind index of {args.expect}", file=sys.stderr)
            return 1
        email = email_of(row[0], row[1])
        if email.lower() != normalised:
            print(f"the blind index found {email}, not {args.expect}", file=sys.stderr)
            return 1
        print(f"found {args.expect} through the blind index")
    return 0 if found else 1


if __name__ == "__main__":
    sys.exit(main())
