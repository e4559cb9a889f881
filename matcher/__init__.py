"""Demand projection, shortfalls and allocation of oxygen supply to facilities."""
