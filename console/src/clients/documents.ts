import { graphql } from "../gql";

// The list: each client with its logo, state and how many apps it has (one request).
export const ClientListDocument = graphql(`
  query ClientList($workspaceId: ID!, $first: Int!, $after: String, $filter: ClientFilter) {
    workspace(id: $workspaceId) {
      id
      clients(first: $first, after: $after, filter: $filter) {
        totalCount
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          node {
            ...ClientFields
            accessProfiles(first: 1) {
              totalCount
            }
          }
        }
      }
    }
  }
`);

export const ClientFieldsFragment = graphql(`
  fragment ClientFields on Client {
    id
    name
    description
    logoUrl
    active
    createdAt
  }
`);

export const AccessProfileFieldsFragment = graphql(`
  fragment AccessProfileFields on AccessProfile {
    id
    name
    authMethod
    allowedIps
    trustedIssuer
    audience
    tokenClientId
    requiredScopes
    certificateBoundTokens
    tokenHint
    createdAt
    certificates {
      ...CertificateFields
    }
    plan {
      id
      name
    }
    products {
      id
      name
      authMethod
    }
  }
`);

// A client's page: the client, its members and its apps with their usage over the picked
// range, in one request (another range is one more).
export const ClientDetailDocument = graphql(`
  query ClientDetail($id: ID!, $from: DateTime!, $to: DateTime!, $bucket: UsageBucket!) {
    node(id: $id) {
      __typename
      ... on Client {
        ...ClientFields
        members(first: 100) {
          totalCount
          edges {
            node {
              id
              user {
                email
                name
              }
            }
          }
        }
        accessProfiles(first: 100) {
          totalCount
          edges {
            node {
              ...AccessProfileFields
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
`);


export const CreateClientDocument = graphql(`
  mutation CreateClient($input: CreateClientInput!) {
    createClient(input: $input) {
      client {
        ...ClientFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const UpdateClientDocument = graphql(`
  mutation UpdateClient($input: UpdateClientInput!) {
    updateClient(input: $input) {
      client {
        ...ClientFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const SetClientActiveDocument = graphql(`
  mutation SetClientActive($input: SetClientActiveInput!) {
    setClientActive(input: $input) {
      client {
        ...ClientFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const DeleteClientDocument = graphql(`
  mutation DeleteClient($input: DeleteClientInput!) {
    deleteClient(input: $input) {
      deletedClientId
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const CreateAccessProfileDocument = graphql(`
  mutation CreateAccessProfile($input: CreateAccessProfileInput!) {
    createAccessProfile(input: $input) {
      token
      accessProfile {
        ...AccessProfileFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const UpdateAccessProfileDocument = graphql(`
  mutation UpdateAccessProfile($input: UpdateAccessProfileInput!) {
    updateAccessProfile(input: $input) {
      accessProfile {
        ...AccessProfileFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const RefreshAccessProfileTokenDocument = graphql(`
  mutation RefreshAccessProfileToken($input: RefreshAccessProfileTokenInput!) {
    refreshAccessProfileToken(input: $input) {
      token
      accessProfile {
        ...AccessProfileFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const DeleteAccessProfileDocument = graphql(`
  mutation DeleteAccessProfile($input: DeleteAccessProfileInput!) {
    deleteAccessProfile(input: $input) {
      deletedAccessProfileId
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const CertificateFieldsFragment = graphql(`
  fragment CertificateFields on AccessProfileCertificate {
    id
    fingerprint
    subject
    issuer
    serialNumber
    notBefore
    notAfter
  }
`);

export const AddAccessProfileCertificateDocument = graphql(`
  mutation AddAccessProfileCertificate($input: AddAccessProfileCertificateInput!) {
    addAccessProfileCertificate(input: $input) {
      certificate {
        ...CertificateFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const RemoveAccessProfileCertificateDocument = graphql(`
  mutation RemoveAccessProfileCertificate($input: RemoveAccessProfileCertificateInput!) {
    removeAccessProfileCertificate(input: $input) {
      removedCertificateId
      userErrors {
        field
        message
        code
      }
    }
  }
`);
