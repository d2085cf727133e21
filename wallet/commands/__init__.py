"""Command groups of the `wallet` console command, one module per area."""
