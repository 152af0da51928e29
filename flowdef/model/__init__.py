"""flowdef.model.spec."""
