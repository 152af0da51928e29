"""flowdef.dsl."""
