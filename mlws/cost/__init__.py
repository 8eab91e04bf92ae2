"""What runs cost: reckoned from the registry's records alone (reckon.py), no cloud call."""
