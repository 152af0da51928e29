"""flowdef.load."""
