"""What runs cost: reckoned from the registry's records alone (reckon.py), no cloud call; runs.py asks
each run's backend to reckon its own. (Named `spend`, not `cost`: `mlws.cost` is an API function.)"""
