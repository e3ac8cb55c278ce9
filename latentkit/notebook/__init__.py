"""latentkit in a notebook (Colab): run the commands with output sized for a notebook, and show
a run's results inline. Imported by the bootstrap cell once latentkit is installed."""

from latentkit.notebook.session import NotebookStop, Session, preset_size, start
from latentkit.notebook.show import show_results, show_training

__all__ = ["NotebookStop", "Session", "preset_size", "show_results", "show_training", "start"]
