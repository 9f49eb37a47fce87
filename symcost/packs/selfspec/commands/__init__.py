"""The selfspec pack's own verbs: the reference calculator's k-sweep and batch runner, and optimal K."""
