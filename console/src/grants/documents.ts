import { graphql } from "../gql";

export const GrantApiAccessDocument = graphql(`
  mutation GrantApiAccess($input: GrantApiAccessInput!) {
    grantApiAccess(input: $input) {
      api {
        id
        peopleCount
        groupsCount
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const RevokeApiAccessDocument = graphql(`
  mutation RevokeApiAccess($input: RevokeApiAccessInput!) {
    revokeApiAccess(input: $input) {
      api {
        id
        peopleCount
        groupsCount
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const RevokeAllApiAccessDocument = graphql(`
  mutation RevokeAllApiAccess($input: RevokeAllApiAccessInput!) {
    revokeAllApiAccess(input: $input) {
      api {
        id
        peopleCount
        groupsCount
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);
