import { graphql } from "../gql";

// The catalogue: the published products with their APIs (one request).
export const PortalCatalogueDocument = graphql(`
  query PortalCatalogue($workspaceId: ID!) {
    workspace(id: $workspaceId) {
      id
      products(first: 100, filter: { published: true }) {
        totalCount
        edges {
          node {
            id
            name
            description
            authMethod
            apis {
              id
              name
              baseUrl
            }
          }
        }
      }
    }
  }
`);

// A product's page: the product, its APIs and the plans to choose from (one request).
export const PortalProductDocument = graphql(`
  query PortalProduct($workspaceId: ID!, $id: ID!) {
    node(id: $id) {
      __typename
      ... on ApiProduct {
        id
        name
        description
        authMethod
        published
        apis {
          id
          name
          baseUrl
          description
        }
      }
    }
    workspace(id: $workspaceId) {
      id
      plans(first: 100) {
        edges {
          node {
            ...PlanFields
          }
        }
      }
    }
  }
`);

export const PortalAppFieldsFragment = graphql(`
  fragment PortalAppFields on AccessProfile {
    id
    name
    authMethod
    allowedIps
    tokenHint
    plan {
      id
      name
    }
    products {
      id
      name
    }
  }
`);

// The cart and My apps: the consumer's clients with their apps (one request).
export const PortalAppsDocument = graphql(`
  query PortalApps($workspaceId: ID!) {
    workspace(id: $workspaceId) {
      id
      clients(first: 100) {
        edges {
          node {
            id
            name
            active
            accessProfiles(first: 100) {
              edges {
                node {
                  ...PortalAppFields
                }
              }
            }
          }
        }
      }
    }
  }
`);

// My apps: the consumer's clients with their apps and each app's usage over the picked range
// (one request; another range is one more).
export const MyAppsDocument = graphql(`
  query MyApps($workspaceId: ID!, $from: DateTime!, $to: DateTime!, $bucket: UsageBucket!) {
    workspace(id: $workspaceId) {
      id
      clients(first: 100) {
        edges {
          node {
            id
            name
            active
            accessProfiles(first: 100) {
              edges {
                node {
                  ...PortalAppFields
                  usageSeries(from: $from, to: $to, bucket: $bucket) {
                    start
                    allowed
                    denied
                    reasons {
                      reason
                      count
                    }
                  }
                }
              }
            }
          }
        }
      }
    }
  }
`);

export const PortalRequestFieldsFragment = graphql(`
  fragment PortalRequestFields on AccessRequest {
    id
    status
    planName
    decidedBy
    decidedAt
    reason
    createdAt
    accessProfile {
      id
      name
    }
    products {
      id
      name
    }
  }
`);

// My requests: the viewer's own requests, newest first (one request).
export const PortalRequestsDocument = graphql(`
  query PortalRequests($workspaceId: ID!) {
    workspace(id: $workspaceId) {
      id
      accessRequests(first: 100) {
        totalCount
        edges {
          node {
            ...PortalRequestFields
          }
        }
      }
    }
  }
`);

export const SubmitAccessRequestDocument = graphql(`
  mutation SubmitAccessRequest($input: SubmitAccessRequestInput!) {
    submitAccessRequest(input: $input) {
      token
      accessRequest {
        ...PortalRequestFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const CancelAccessRequestDocument = graphql(`
  mutation CancelAccessRequest($input: CancelAccessRequestInput!) {
    cancelAccessRequest(input: $input) {
      accessRequest {
        ...PortalRequestFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);
