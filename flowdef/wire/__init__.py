"""flowdef.wire."""
