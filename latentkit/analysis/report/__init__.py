"""What an analysis leaves for people and programs: report.json's schema (``schema``, its
sections in ``cloud_schema``, ``quality_schema`` and ``peer_schema``), report.md (``markdown``),
report.html (``page``), and the figures: the cloud's (``cloud_figures``), one plane's and the
lattice's (``plane_figures``), a model's and runs side by side (``run_figures``). They may use
the measures and the generators, never a command."""
