"""The job presets, installed as the package ``latentkit.presets`` (see pyproject.toml).

Each ``*.toml`` here is a commented job spec: ``latentkit train --job NAME`` reads it from
the installed package; copy one and pass its path to start your own.
"""
