#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
"""Reads a pair store's exports with Python's own json and csv modules (a reader independent of
the C++ writer) and prints what it found as one JSON object:
{"records": [{"prompt", "chosen", "rejected", "source"}...], "rows": [{"id", "human", "who",
"auto", "sequence"}...]}. Exits non-zero on a line that is not a JSON object with the
preference-tuning keys, or a CSV row of the wrong width."""
import csv
import json
import sys


def main(jsonl_path, csv_path):
    records = []
    with open(jsonl_path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            rec = json.loads(line)
            if not isinstance(rec, dict):
                sys.exit(f"{jsonl_path}:{n}: not an object")
            for key in ("prompt", "chosen", "rejected", "source"):
                if not isinstance(rec.get(key), str):
                    sys.exit(f"{jsonl_path}:{n}: no string '{key}'")
            records.append({k: rec[k] for k in ("prompt", "chosen", "rejected", "source")})
    rows = []
    with open(csv_path, newline="", encoding="utf-8") as f:
        reader = csv.reader(f)
        header = next(reader)
        for n, row in enumerate(reader, 2):
            if len(row) != len(header):
                sys.exit(f"{csv_path}:{n}: {len(row)} fields, header has {len(header)}")
            r = dict(zip(header, row))
            rows.append({"id": int(r["id"]), "human": r["human_verdict"], "who": r["who"],
                         "auto": r["auto_verdict"], "sequence": r["sequence"]})
    print(json.dumps({"records": records, "rows": rows}))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
