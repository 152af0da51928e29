"""flowdef.jobsapi."""
