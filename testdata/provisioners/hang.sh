#!/bin/sh
# Test cmd:// provisioner that never answers (the caller's timeout must kill it).
sleep 30
