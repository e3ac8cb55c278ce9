"""The pipeline seen from outside its jobs: the steps and their done-tests (``steps``), what a
run has done so far (``status``), the chain of SLURM jobs (``slurm``) and the machine report
(``environment``). Above the model room: it reads what the jobs write, and no job imports it."""

from latentkit.pipeline.steps import NAMES, STEPS, Where, steps_done

__all__ = ["NAMES", "STEPS", "Where", "steps_done"]
