"""Thin root resolvers: decode the input, call a service, map the result to types."""
