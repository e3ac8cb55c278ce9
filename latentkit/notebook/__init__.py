"""latentkit in a notebook (Colab): run the commands with output sized for a notebook, show
a run's results inline, and explore its latent space live (``explore``). Imported by the
bootstrap cell once latentkit is installed."""

from latentkit.notebook.explorer import explore
from latentkit.notebook.session import NotebookStop, Session, preset_size, start
from latentkit.notebook.show import show_results, show_training

__all__ = ["NotebookStop", "Session", "explore", "preset_size", "show_results", "show_training", "start"]
