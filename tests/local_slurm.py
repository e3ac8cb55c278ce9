"""A real, throwaway SLURM cluster on this machine for the tests (Debian's slurm-wlm).

Installs slurm-wlm and munge with apt-get when they are missing and we are root, writes a
minimal slurm.conf into a temporary directory, starts munged, slurmctld and slurmd, and
stops them afterwards. Commands find the cluster through SLURM_CONF.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time
from pathlib import Path

import psutil
from fixtures.scheduling import every_cpu

CONF = """ClusterName=latentkit{suffix}
SlurmctldHost={host}
SlurmUser=root
SlurmdUser=root
AuthType=auth/munge
ProctrackType=proctrack/linuxproc
TaskPlugin=task/none
SelectType=select/cons_tres
SelectTypeParameters=CR_Core_Memory
JobAcctGatherType=jobacct_gather/none
ReturnToService=2
MpiDefault=none
SchedulerType=sched/backfill
SchedulerParameters=sched_interval=2,bf_interval=2
SlurmctldPort={ctld_port}
SlurmdPort={d_port}
StateSaveLocation={root}/state
SlurmdSpoolDir={root}/spool
SlurmctldPidFile={root}/slurmctld.pid
SlurmdPidFile={root}/slurmd.pid
SlurmctldLogFile={root}/slurmctld.log
SlurmdLogFile={root}/slurmd.log
MaxArraySize=1000
NodeName={host} CPUs={cpus} RealMemory={memory} State=UNKNOWN
PartitionName=debug Nodes={host} Default=YES MaxTime=INFINITE State=UP
"""


# squeue's states of a job that has ended (PREEMPTED is not one: a preempted job may requeue)
FINAL_STATES = {"COMPLETED", "FAILED", "CANCELLED", "TIMEOUT", "NODE_FAIL", "OUT_OF_MEMORY", "BOOT_FAIL", "DEADLINE"}


def ensure_installed() -> str | None:
    """None when slurmctld, slurmd and munged are available, else why not."""
    if all(shutil.which(b) for b in ("slurmctld", "slurmd", "sbatch", "munged")):
        return None
    if os.geteuid() != 0 or not shutil.which("apt-get"):
        return "slurm-wlm is not installed and this user cannot apt-get install it"
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    for cmd in (["apt-get", "update", "-qq"], ["apt-get", "install", "-y", "-qq", "slurm-wlm", "munge"]):
        result = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=900)
        if result.returncode:
            return f"{' '.join(cmd)} failed: {result.stderr[-300:]}"
    # The package's postinst may have started daemons with its own config: stop them.
    subprocess.run(["pkill", "-x", "slurmctld"], capture_output=True)
    subprocess.run(["pkill", "-x", "slurmd"], capture_output=True)
    return None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class LocalSlurm:
    def __init__(self, root: Path) -> None:
        self.root = root
        self.host = socket.gethostname().split(".")[0]
        self.conf = root / "slurm.conf"
        self.env = {**os.environ, "SLURM_CONF": str(self.conf)}
        self.processes: list[subprocess.Popen] = []

    def start(self) -> None:
        for sub in ("state", "spool"):
            (self.root / sub).mkdir(parents=True, exist_ok=True)
        memory = int(psutil.virtual_memory().total / 2**20 * 0.8)
        self.conf.write_text(
            CONF.format(
                suffix=os.getpid(),
                host=self.host,
                root=self.root,
                cpus=os.cpu_count(),
                memory=memory,
                ctld_port=_free_port(),
                d_port=_free_port(),
            )
        )
        if subprocess.run(["pgrep", "-x", "munged"], capture_output=True).returncode:
            Path("/run/munge").mkdir(parents=True, exist_ok=True)
            subprocess.run(["munged", "--force"], check=True, capture_output=True)
        # Foreground daemons (-D) owned by this process: nothing outlives the tests.
        for daemon in (["slurmctld", "-D", "-i", "-f", str(self.conf)], ["slurmd", "-D", "-f", str(self.conf)]):
            log = open(self.root / f"{daemon[0]}.out", "w")  # noqa: SIM115 (held by the daemon)
            self.processes.append(
                subprocess.Popen(daemon, env=self.env, stdout=log, stderr=subprocess.STDOUT, preexec_fn=every_cpu)
            )  # a node of CPUs=os.cpu_count()
            time.sleep(1.0)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            state = self.run("sinfo", "-h", "-o", "%T", check=False).stdout.strip()
            if state in ("idle", "mixed", "allocated"):
                return
            time.sleep(0.5)
        raise RuntimeError(f"local SLURM did not come up (sinfo: {state!r}); see {self.root}")

    def run(self, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(list(args), capture_output=True, text=True, env=self.env, check=check, timeout=120)

    def sbatch(self, *args: str, env: dict | None = None) -> str:
        result = subprocess.run(
            ["sbatch", "--parsable", *args],
            capture_output=True,
            text=True,
            env={**self.env, **(env or {})},
            check=True,
            timeout=120,
        )
        return result.stdout.strip().split(";")[0]

    def wait(self, job_id: str, timeout: float = 600) -> None:
        """Until every task of the job has ended (requeues included): each one listed in a final
        state (``squeue -t all`` keeps ended jobs for MinJobAge, 300 s) or none listed, on two
        polls in a row a quarter second apart. A job requeueing itself goes RUNNING -> REQUEUED
        -> PENDING, never through a final state.

        SLURM holds a requeued job for 120 s (reason BeginTime) before it may start again; on
        a cluster that is only these tests, the wait lets it go (as an operator can) once it has
        been held 1.5 s: slurmd refuses a job whose credential is from the second its previous
        run's was revoked in ("Job credential revoked")."""
        deadline, ended, held = time.monotonic() + timeout, 0, {}
        while time.monotonic() < deadline:
            listed = self.run("squeue", "-h", "-r", "-t", "all", "-j", job_id, "-o", "%i %T %r", check=False).stdout
            tasks = [line.split() for line in listed.splitlines() if line.strip()]
            ended = ended + 1 if all(task[1] in FINAL_STATES for task in tasks) else 0
            if ended >= 2:
                return
            for task in tasks:
                if task[-1] != "BeginTime":
                    held.pop(task[0], None)
                elif time.monotonic() - held.setdefault(task[0], time.monotonic()) >= 1.5:
                    self.run("scontrol", "update", f"JobId={task[0]}", "StartTime=now", check=False)
                    held.pop(task[0])
            time.sleep(0.25)
        raise TimeoutError(f"job {job_id} still queued after {timeout} s")

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
