"""GPT Pro."""
