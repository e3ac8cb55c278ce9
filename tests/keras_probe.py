"""Run latentkit command lines, each in a child forked from a parent that has imported the CLI
but no backend; report per line: exit status, whether Keras was loaded, stderr's last line."""
import json
import os
import sys

from latentkit.cli.main import run

results = []
for argv in json.loads(sys.stdin.read()):
    read, write = os.pipe()
    pid = os.fork()
    if pid == 0:
        os.close(read)
        devnull = os.open(os.devnull, os.O_WRONLY)
        err_r, err_w = os.pipe()
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        try:
            import contextlib
            import io
            buffer = io.StringIO()
            with contextlib.redirect_stderr(buffer):
                code = run(argv)
        except BaseException as error:  # noqa: BLE001
            code, buffer = f"raised {type(error).__name__}", io.StringIO(str(error))
        os.write(write, json.dumps({"argv": argv, "code": code, "keras": "keras" in sys.modules,
                                    "stderr": buffer.getvalue().strip().splitlines()[-1:] }).encode())
        os._exit(0)
    os.close(write)
    data = b""
    while chunk := os.read(read, 65536):
        data += chunk
    os.waitpid(pid, 0)
    results.append(json.loads(data))
print(json.dumps(results))
