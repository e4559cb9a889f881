"""The HTTP layer: one Flask blueprint module per area, the map page, request authentication."""
