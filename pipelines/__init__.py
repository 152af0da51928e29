"""The smart-claims example: two Lakeflow jobs from the course lesson on Lakeflow Jobs (lesson 05)."""
