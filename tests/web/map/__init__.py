"""Tests of the web map (web/map.py) and of the road network export."""
