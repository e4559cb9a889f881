"""Orchestration that joins matcher and routing: plans, dispatch, scenarios, sweeps, compliance."""
