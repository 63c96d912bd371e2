"""``python -m kata_engine.broker [--port 9092]``: a local broker in the foreground until Ctrl-C."""

import sys

from kata_engine.broker import main

sys.exit(main())
