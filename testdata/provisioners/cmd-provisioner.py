#!/usr/bin/env python3
"""Test cmd:// provisioner for score-gen (see schemas/cmd-provisioner.json).

Modes (first argument):
  round-trip  echo inputs back as outputs, count runs in state, patch shared state, emit fragments
  crash       write 30 lines to stderr and exit 3
  garbage     print non-JSON on stdout
  unknown     print JSON with an unknown top-level key
"""
import json
import sys

mode = sys.argv[1] if len(sys.argv) > 1 else "round-trip"
inp = json.load(sys.stdin)

if mode == "crash":
    for i in range(1, 31):
        print(f"stderr line {i}", file=sys.stderr)
    sys.exit(3)
if mode == "garbage":
    print("this is not json {")
    sys.exit(0)
if mode == "unknown":
    print(json.dumps({"resource_outputs": {}, "services": {}}))
    sys.exit(0)

state = dict(inp["resource_state"])
state["runs"] = state.get("runs", 0) + 1
out = {
    "resource_state": state,
    "shared_state": {"seen": {inp["resource_uid"]: True}, "drop": None},
    "resource_outputs": {
        "uid": inp["resource_uid"],
        "type": inp["resource_type"],
        "class": inp["resource_class"],
        "id": inp["resource_id"],
        "params": inp["resource_params"],
        "metadata": inp["resource_metadata"],
        "workload": inp["source_workload"],
        "services": inp["workload_services"],
        "shared_keys": sorted(inp["shared_state"].keys()),
        "target": inp["target"],
        "password": "s3cret",
    },
    "secret_outputs": ["password"],
    "expression_outputs": ["uid"],
    "fragments": {"services": {inp["resource_id"]: {"image": "example"}}},
}
json.dump(out, sys.stdout)
