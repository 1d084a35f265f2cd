#!/usr/bin/env python3
"""expect_exit.py N cmd... : run cmd, forward its output, succeed iff it exits N.

A crash (signal) never matches: subprocess reports it as a negative code.
"""
import subprocess
import sys

expected = int(sys.argv[1])
proc = subprocess.run(sys.argv[2:], stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
sys.stdout.buffer.write(proc.stdout)
if proc.returncode != expected:
    sys.stdout.write(f"expect_exit: expected exit {expected}, got {proc.returncode}\n")
    sys.exit(1)
