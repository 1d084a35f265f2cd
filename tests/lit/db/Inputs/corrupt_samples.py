#!/usr/bin/env python3
"""corrupt_samples.py DB : makes every record's samples_json of DB unreadable
JSON, as a damaged or hand-edited database would have it."""
import sqlite3
import sys

connection = sqlite3.connect(sys.argv[1])
connection.execute("UPDATE records SET samples_json = '{bad'")
connection.commit()
connection.close()
