#!/usr/bin/env python3
# resource_outputs must be an object.
import json, sys
json.load(sys.stdin)
print(json.dumps({"resource_outputs": ["url", "db"]}))
