"""The suite. Imported before any project module, so this is where the bytecode rule is set.

The processes the tests start (flask commands, bot_main.py, workers) import the project
afresh. Where the machine sets PYTHONDONTWRITEBYTECODE (this one does), each of them compiled
every project module from source, ~0.15 s of CPU a process; the test processes now write the
bytecode once (into the ignored __pycache__ folders) and the children read it.
"""

import sys

sys.dont_write_bytecode = False
