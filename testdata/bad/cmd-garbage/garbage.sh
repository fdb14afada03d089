#!/bin/sh
# Answers with something that is not JSON.
echo "Provisioned database OK!"
echo "url=postgres://db"
