#!/bin/sh
# Test cmd:// provisioner that never answers; its child leaves the process group (setsid), so the
# timeout's group kill misses it, and it keeps the output pipes open. Its odd length lets the test
# find it (crates/score-core/tests/it/provision.rs, cmd_timeout_does_not_wait_for_inherited_pipes).
setsid sleep 37.75 &
wait
