"""Domain rules and transactions. Nothing here imports Strawberry: the GraphQL layer, the CLI and
the decision endpoint all call these functions."""
