"""Run latentkit command lines (JSON list of argv lists on stdin), each in a child forked from
this process, which has imported the CLI but no backend; print per line, as JSON: the exit
status, whether Keras got loaded, and the last line on stderr.

The parent is warm before it forks: every latentkit module that does not load Keras is
imported and the CLI has answered once, so that a child pays for its own command only (200
children from a cold parent re-imported scipy and rich and built typer's help each time:
78 s; from a warm one: 12 s). Warming is checked to leave Keras out, else the probe fails."""

import contextlib
import importlib
import io
import json
import os
import pkgutil
import sys

import latentkit
from latentkit.cli.main import run

LOADS_KERAS = {
    "latentkit.__main__",
    "latentkit.model.backend",
    "latentkit.model.dataset",
    "latentkit.model.fitting",
    "latentkit.model.networks",
}
for module in pkgutil.walk_packages(latentkit.__path__, "latentkit."):
    if module.name not in LOADS_KERAS:
        importlib.import_module(module.name)
        if "keras" in sys.modules:
            sys.exit(f"keras_probe: importing {module.name} loads Keras: add it to LOADS_KERAS")
with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
    for argv in (["no-such-command"], ["encode", "--help"]):
        with contextlib.suppress(SystemExit):
            run(argv)
if "keras" in sys.modules:
    sys.exit("keras_probe: answering --help loaded Keras")

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
        except BaseException as error:
            code = f"raised {type(error).__name__}: {error}"
        report = {
            "argv": argv,
            "code": code,
            "keras": "keras" in sys.modules,
            "stderr": stderr.getvalue().strip().splitlines()[-1:],
        }
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
