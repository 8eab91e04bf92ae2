"""Cloud runs through SkyPilot: compile a RunSpec into a task, validate, price, launch, follow.

compile.py is pure (no sky import); skypilot.py is the only module that imports sky.
"""
