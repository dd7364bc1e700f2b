"""Energy: per-operation tables, the datapath estimate, and (later) measurement."""
