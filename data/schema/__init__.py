"""Domain value types shared by ``matcher/`` and ``routing/`` (the only module both import)."""
