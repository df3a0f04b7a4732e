"""The click commands, one module per stage; ``ledger.cli`` assembles them."""
