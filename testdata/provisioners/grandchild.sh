#!/bin/sh
# Test cmd:// provisioner that never answers and leaves a grandchild behind: a background `sleep`
# whose pid goes to the file named by $1. The caller's timeout must kill the grandchild too, with
# the whole process group (crates/score-core/tests/it/provision.rs, cmd_timeout_kills_the_process_group).
sleep 300 &
echo $! > "$1.tmp" && mv "$1.tmp" "$1"
wait
