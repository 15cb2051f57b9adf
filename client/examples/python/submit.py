#!/usr/bin/env python3
"""Sign a licence in Python and submit it to a Chancery node over gRPC.

Built from the .proto files and docs/PROOFS.md alone: the stubs are
generated from proto/proto/chancery/v1/*.proto with grpcio-tools (as
follow.py does), and the record is encoded and signed by chancery_record.py
beside this file.

    pip install grpcio grpcio-tools cryptography
    python3 client/examples/python/submit.py --node 127.0.0.1:27200 \\
        --key .testnet/transport/issuer.key --agency transport \\
        --licence DL-1 --class driving

The chain id every signature covers is taken from the node's GetStatus
unless --chain-id pins it (do pin it outside a test: a node is not a trust
anchor; the chain id is the hash of the genesis, `chancery-testnet genesis`
and docs/PROOFS.md section 6).
"""
import argparse
import secrets
import sys
import time

sys.dont_write_bytecode = True  # no __pycache__ beside the examples

import grpc  # noqa: E402

from chancery_record import (  # noqa: E402
    KeyFileError, LicenceIssue, Record, read_secret_key, sign)
from follow import generate_stubs  # noqa: E402

DAY_MS = 24 * 3600 * 1000


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--node", required=True, help="host:port of a validator's gRPC API")
    p.add_argument("--key", required=True, help="the agency's issuer secret key file")
    p.add_argument("--agency", required=True, help="the issuing agency id, e.g. transport")
    p.add_argument("--licence", required=True, help="the licence number (the record's subject)")
    p.add_argument("--class", dest="licence_class", required=True,
                   help="the licence class, e.g. driving")
    p.add_argument("--days", type=int, default=365, help="validity from now, in days")
    p.add_argument("--body", default="{}", help="the record body (UTF-8 text; no personal data)")
    p.add_argument("--chain-id", default="", help="64 hex digits; default: ask the node")
    p.add_argument("--no-wait", action="store_true", help="do not wait for the commit")
    a = p.parse_args()

    try:
        key = read_secret_key(a.key)
    except KeyFileError as e:
        sys.exit(str(e))
    m = generate_stubs()
    channel = grpc.insecure_channel(a.node)
    chain_id = a.chain_id or m["node_grpc"].NodeServiceStub(channel).GetStatus(
        m["node"].GetStatusRequest()).chain_id
    chain_id = bytes.fromhex(chain_id)

    now = int(time.time() * 1000)
    record = Record(
        kind=LicenceIssue(licence_class=a.licence_class, valid_from=now,
                          valid_until=now + a.days * DAY_MS),
        issuer=a.agency,
        key_id=key.key_id,
        subject=a.licence,
        body=a.body.encode("utf-8"),
        references=[],
        timestamp=now,
        nonce=secrets.randbits(64),
    )
    signed = sign(record, key.seed, chain_id)

    records = m["records_grpc"].RecordServiceStub(channel)
    try:
        resp = records.SubmitRecord(m["records"].SubmitRecordRequest(
            signed_record=signed.to_canonical(), wait_for_commit=not a.no_wait))
    except grpc.RpcError as e:
        sys.exit(f"SubmitRecord failed: {e.code().name}: {e.details()}")

    print(f"record id  {resp.record_id}")
    if resp.record_id != signed.record_id_hex():
        sys.exit(f"the node's record id differs from ours ({signed.record_id_hex()})")
    if resp.HasField("commitment"):
        c = resp.commitment
        print(f"commitment height {c.height}, log index {c.log_index}, "
              f"committed at {c.committed_at_ms} ms: {c.result}")
    else:
        print("commitment (not waited for)")


if __name__ == "__main__":
    main()
