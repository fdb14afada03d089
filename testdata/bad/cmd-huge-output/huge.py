#!/usr/bin/env python3
# Writes more than the 16 MiB stdout limit.
import sys
chunk = "x" * (1 << 20)
for _ in range(17):
    sys.stdout.write(chunk)
