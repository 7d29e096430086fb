"""The GraphQL documents the benchmark sends (variables, never values in the query)."""

from __future__ import annotations

from typing import Any

API_TABLE = """
query ApiTable($workspace: ID!, $first: Int!) {
  workspace(id: $workspace) {
    apis(first: $first) {
      totalCount
      edges {
        node {
          name
          identifier
          peopleCount
          groupsCount
          people(first: 5) { edges { node { id user { email } } } }
          groups(first: 5) { edges { node { name } } }
        }
      }
    }
  }
}
"""

MEMBER_APIS = """
query MemberApis($member: ID!) {
  node(id: $member) {
    ... on Member {
      apis(first: 100) { totalCount edges { node { name } } }
    }
  }
}
"""

VIEWER = "query Viewer { viewer { kind name } }"


def body(query: str, **variables: Any) -> dict[str, Any]:
    """A GraphQL POST body."""
    return {"query": query, "variables": variables}
