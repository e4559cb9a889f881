"""Road graph, snapping, travel-time matrices and vehicle routes."""
