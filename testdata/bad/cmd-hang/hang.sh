#!/bin/sh
# Never answers: sleeps far longer than the --cmd-timeout of the test.
sleep 30
