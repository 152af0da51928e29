"""flowdef.compile."""
