"""modules.errors stand-in: `report` prints the message and, like the web UI, swallows the error."""

import sys
import traceback

reported = []


def report(message, *, exc_info=False):
    reported.append(message)
    print(f"*** {message}", file=sys.stderr)
    if exc_info:
        traceback.print_exc(file=sys.stderr)
