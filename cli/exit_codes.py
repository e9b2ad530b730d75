"""What a `sohoa` command's exit status means, in one place (scripts and cron jobs test it)."""

from __future__ import annotations

from enum import IntEnum


class ExitCode(IntEnum):
    #: everything asked was done
    ok = 0
    #: the service could not be reached or refused us as a whole (network, 5xx, credentials)
    unreachable = 1
    #: the command was wrong: a missing file, a bad option, an unknown unit or user
    usage = 2
    #: the command ran, but some files failed (each with its reason in the summary)
    some_failed = 3
