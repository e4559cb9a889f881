"""Tests of the web map (webmap/) and of the road network export."""
