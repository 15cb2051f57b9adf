#!/usr/bin/env python3
"""A non-Rust Chancery client, built from the .proto files alone.

Generates Python stubs from proto/proto/chancery/v1/*.proto with grpcio-tools,
then: prints the node's status, pages through committed records matching a
filter, and follows new ones (WatchRecords), resuming after a disconnect from
the last log index + 1.

    pip install grpcio grpcio-tools
    python3 client/examples/python/follow.py 127.0.0.1:27200 --issuer transport
"""
import argparse
import importlib
import os
import sys
import tempfile
import time

import grpc
from grpc_tools import protoc

HERE = os.path.dirname(os.path.abspath(__file__))
PROTO_ROOT = os.path.normpath(os.path.join(HERE, "..", "..", "..", "proto", "proto"))


def generate_stubs():
    """Compiles the .proto files into a temporary package and imports it."""
    out = tempfile.mkdtemp(prefix="chancery-py-")
    files = [os.path.join("chancery", "v1", f)
             for f in ("node.proto", "records.proto", "ledger.proto")]
    args = ["protoc", f"-I{PROTO_ROOT}", f"--python_out={out}", f"--grpc_python_out={out}"] + files
    if protoc.main(args) != 0:
        sys.exit("protoc failed")
    sys.path.insert(0, out)
    mods = {}
    for name in ("node", "records", "ledger"):
        mods[name] = importlib.import_module(f"chancery.v1.{name}_pb2")
        mods[name + "_grpc"] = importlib.import_module(f"chancery.v1.{name}_pb2_grpc")
    return mods


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("node", help="host:port of a validator's gRPC API")
    p.add_argument("--issuer", default="")
    p.add_argument("--kind", default="")
    p.add_argument("--follow", type=int, default=0,
                   help="after the backlog, follow this many new records (0: stop)")
    a = p.parse_args()
    m = generate_stubs()
    channel = grpc.insecure_channel(a.node)
    node = m["node_grpc"].NodeServiceStub(channel)
    records = m["records_grpc"].RecordServiceStub(channel)

    st = node.GetStatus(m["node"].GetStatusRequest())
    print(f"chain {st.chain_name} ({st.chain_id[:16]}…) height {st.height} "
          f"validator {st.validator_index}/{st.validators} ({st.agency})")

    flt = m["records"].RecordFilter(issuer=a.issuer, kind=a.kind)
    cursor, count, last = "", 0, -1
    while True:
        page = records.QueryRecords(m["records"].QueryRecordsRequest(filter=flt, cursor=cursor, limit=100))
        for r in page.records:
            count += 1
            last = r.commitment.log_index
        if not page.next_cursor:
            break
        cursor = page.next_cursor
    print(f"{count} committed records match (last log index {last})")

    followed = 0
    while followed < a.follow:
        try:
            stream = records.WatchRecords(m["records"].WatchRecordsRequest(filter=flt, from_log_index=last + 1))
            for r in stream:
                last = r.commitment.log_index
                followed += 1
                print(f"  new: height {r.commitment.height} {r.record_id[:16]}… {r.commitment.result}")
                if followed >= a.follow:
                    stream.cancel()
                    break
        except grpc.RpcError as e:
            if e.code() == grpc.StatusCode.CANCELLED:
                break
            print(f"  stream interrupted ({e.code().name}); resuming at {last + 1}")
            time.sleep(1)


if __name__ == "__main__":
    main()
