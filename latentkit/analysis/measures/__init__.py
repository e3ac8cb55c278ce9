"""The measures: arrays in, numbers out. Streaming statistics and fits (``stats``), the hit
tests (``hits``), the data's region in pairs and PC coordinates (``regions``), post IX's trimmed
view (``trimmed``), where the holes are (``holes``), prior mismatch (``mismatch``),
nearest-neighbour distances (``neighbours``), disentanglement, runs aligned (``alignment``) and
the t-SNE map and k-means (``embedding``). They may use the generators, never the report or a
command."""
