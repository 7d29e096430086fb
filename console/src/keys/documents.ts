import { graphql } from "../gql";

// Everything the table, the filter panel, the detail panel and the forms show, in one request;
// roles only when the viewer may read them (without getRole, `role` would fail the whole list),
// and the viewer's own name pattern for new keys.
export const ApiAccessListDocument = graphql(`
  query ApiAccessList(
    $workspaceId: ID!
    $first: Int!
    $after: String
    $filter: ApiAccessFilter
    $orderBy: ApiAccessOrder
    $withRoles: Boolean!
  ) {
    workspace(id: $workspaceId) {
      id
      apiAccesses(first: $first, after: $after, filter: $filter, orderBy: $orderBy) {
        totalCount
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          node {
            ...ApiAccessFields
          }
        }
      }
      roles(first: 100) @include(if: $withRoles) {
        edges {
          node {
            id
            name
          }
        }
      }
    }
    viewer {
      memberships {
        workspace {
          id
        }
        permissionConstraints {
          name
          namePattern
        }
      }
    }
  }
`);

export const ApiAccessFieldsFragment = graphql(`
  fragment ApiAccessFields on ApiAccess {
    id
    accessId
    name
    description
    tags
    type
    expiresAt
    status
    tokenHint
    createdBy
    createdAt
    lastUsedAt
    usageCount
    role @include(if: $withRoles) {
      id
      name
    }
  }
`);

export const CreateApiAccessDocument = graphql(`
  mutation CreateApiAccess($input: CreateApiAccessInput!, $withRoles: Boolean!) {
    createApiAccess(input: $input) {
      token
      apiAccess {
        ...ApiAccessFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const UpdateApiAccessDocument = graphql(`
  mutation UpdateApiAccess($input: UpdateApiAccessInput!, $withRoles: Boolean!) {
    updateApiAccess(input: $input) {
      apiAccess {
        ...ApiAccessFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const RegenerateApiAccessDocument = graphql(`
  mutation RegenerateApiAccess($input: RegenerateApiAccessInput!, $withRoles: Boolean!) {
    regenerateApiAccess(input: $input) {
      token
      apiAccess {
        ...ApiAccessFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const DeleteApiAccessesDocument = graphql(`
  mutation DeleteApiAccesses($input: DeleteApiAccessesInput!) {
    deleteApiAccesses(input: $input) {
      deletedApiAccessIds
      userErrors {
        field
        message
        code
      }
    }
  }
`);
