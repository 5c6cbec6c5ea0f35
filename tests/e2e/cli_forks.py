"""Runs the operator's `cloudsms` command against a local stack for the e2e tests, each
time in a fork of one process that has imported what the command imports.

A fresh interpreter spends about two seconds importing the services before a command
does anything, and the e2e tests make tenants, grants and keys with the command dozens
of times. A fork starts with those imports done and then runs `cloudsms.cli.main` with
the command's words, as the console script does: the same target set from the state
file, the same output, exit status and error text, in a process of its own, so nothing
one command leaves behind is seen by the next. The console script itself stays tested
by the tests that run it (stack_process.cli).

Protocol: a JSON list of words a line on standard input; for each, a JSON object
{"returncode", "stdout", "stderr"} a line on standard output.
"""

import json
import os
import sys
import tempfile
from pathlib import Path


def _run(state_file: str, words: list[str]) -> dict[str, object]:
    from cloudsms import cli

    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        sys.stdout.flush()
        sys.stderr.flush()
        child = os.fork()
        if child == 0:
            code = 1
            try:
                os.dup2(os.open(os.devnull, os.O_RDONLY), 0)
                os.dup2(out.fileno(), 1)
                os.dup2(err.fileno(), 2)
                sys.argv = ["cloudsms", "--local", state_file, *words]
                try:
                    cli.main()
                    code = 0
                except SystemExit as exit_:
                    # As the interpreter turns sys.exit's argument into a status.
                    if exit_.code is None:
                        code = 0
                    elif isinstance(exit_.code, int):
                        code = exit_.code
                    else:
                        print(exit_.code, file=sys.stderr)
                        code = 1
            except BaseException:
                import traceback

                traceback.print_exc()
                code = 1
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        _, status = os.waitpid(child, 0)
        out.seek(0)
        err.seek(0)
        return {
            "returncode": os.waitstatus_to_exitcode(status),
            "stdout": out.read().decode(),
            "stderr": err.read().decode(),
        }


def main(state_file: str) -> None:
    from cloudsms import cli

    # What `cli.main` does before its imports, then the imports, done once for every fork.
    cli._target_local(Path(state_file))
    from cloudsms.api import MAX_PATH_VALUE_BYTES  # noqa: F401
    from cloudsms.services import (  # noqa: F401
        accounts,
        channels,
        dead_letters,
        orders,
        templates,
        tenants,
    )
    from cloudsms.services.statistics import channel_statistics, tenant_usage  # noqa: F401

    for line in sys.stdin:
        print(json.dumps(_run(state_file, json.loads(line))), flush=True)


if __name__ == "__main__":
    main(sys.argv[1])
