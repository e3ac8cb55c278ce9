"""The demo: every stage on synthetic faces, then the studies' findings against the run."""

from latentkit.demo.run import run_demo, run_demo_compare, write_findings

__all__ = ["run_demo", "run_demo_compare", "write_findings"]
