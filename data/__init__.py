"""Data layer of oxyroute: value types, settings, regions, bundled datasets and importers."""
