import sys

from flowdef import cli

code = cli.main()
if cli.skip_teardown:  # a command holding nothing but memory: end without freeing it object by object
    import atexit
    import os

    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except BrokenPipeError:
        pass
    atexit._run_exitfuncs()  # what an ordinary exit runs (none of flowdef's, but a user's module may register one)
    os._exit(code)
sys.exit(code)
