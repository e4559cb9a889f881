"""HTTP API of oxyroute (Flask application factory)."""
