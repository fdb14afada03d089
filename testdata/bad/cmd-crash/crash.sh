#!/bin/sh
# Fails like a real tool would: a message on stderr and a non-zero exit.
echo "connecting to the cloud API..." >&2
echo "error: quota exceeded for project demo" >&2
exit 3
