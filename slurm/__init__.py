"""The sbatch scripts, installed as the package ``latentkit.slurm_scripts`` (see pyproject.toml),
so `latentkit slurm submit` finds them after a normal install. Submit them by hand too."""
