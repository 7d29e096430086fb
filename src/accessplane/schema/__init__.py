"""Strawberry types, inputs and payloads; ``accessplane.schema.build`` assembles the Schema."""
