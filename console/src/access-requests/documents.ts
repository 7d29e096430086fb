import { graphql } from "../gql";

// The table, the status filter and, for a deep link, the request it names, in one request; the
// apps' clients only when the viewer may read them (without getClient, `client` would fail the list).
export const AccessRequestListDocument = graphql(`
  query AccessRequestList(
    $workspaceId: ID!
    $first: Int!
    $after: String
    $filter: AccessRequestFilter
    $requestId: ID!
    $withRequest: Boolean!
    $withClients: Boolean!
  ) {
    workspace(id: $workspaceId) {
      id
      accessRequests(first: $first, after: $after, filter: $filter) {
        totalCount
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          node {
            ...AccessRequestFields
          }
        }
      }
    }
    node(id: $requestId) @include(if: $withRequest) {
      id
      ...AccessRequestFields
    }
  }
`);

export const AccessRequestFieldsFragment = graphql(`
  fragment AccessRequestFields on AccessRequest {
    id
    status
    createdApp
    requester
    requesterEmail
    planName
    decidedBy
    decidedAt
    reason
    createdAt
    accessProfile {
      id
      name
      client @include(if: $withClients) {
        id
        name
      }
    }
    products {
      id
      name
    }
  }
`);

export const ApproveAccessRequestDocument = graphql(`
  mutation ApproveAccessRequest($input: ApproveAccessRequestInput!, $withClients: Boolean!) {
    approveAccessRequest(input: $input) {
      accessRequest {
        ...AccessRequestFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const RejectAccessRequestDocument = graphql(`
  mutation RejectAccessRequest($input: RejectAccessRequestInput!, $withClients: Boolean!) {
    rejectAccessRequest(input: $input) {
      accessRequest {
        ...AccessRequestFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);
