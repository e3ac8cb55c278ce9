"""Run latentkit command lines (JSON list of argv lists on stdin), each in a child forked from
this process, which has imported the CLI but no backend; print per line, as JSON: the exit
status, whether Keras got loaded, and the last line on stderr."""

import contextlib
import io
import json
import os
import sys

from latentkit.cli.main import run

results = []
for argv in json.loads(sys.stdin.read()):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: run one command line, report, leave without cleanup handlers
        os.close(read)
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        stderr = io.StringIO()
        try:
            with contextlib.redirect_stderr(stderr):
                code = run(argv)
        except BaseException as error:  # noqa: BLE001  (reported, then judged by the test)
            code = f"raised {type(error).__name__}: {error}"
        report = {"argv": argv, "code": code, "keras": "keras" in sys.modules,
                  "stderr": stderr.getvalue().strip().splitlines()[-1:]}  # fmt: skip
        os.write(write, json.dumps(report).encode())
        os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 65536):
        data += chunk
    os.close(read)
    os.waitpid(pid, 0)
    results.append(json.loads(data))
print(json.dumps(results))
