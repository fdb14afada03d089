#!/bin/sh
# Test cmd:// provisioner that never answers (the caller's timeout must kill it). The sleep is a
# child of this shell that inherits its output pipes and outlives the kill; its odd length lets
# the test find it (crates/score-core/tests/it/provision.rs, cmd_hang_times_out).
sleep 37.25
