import { graphql } from "../gql";

export const ApiOperationFieldsFragment = graphql(`
  fragment ApiOperationFields on ApiOperation {
    id
    method
    path
    name
    scopes
  }
`);

export const ApiOperationPageFragment = graphql(`
  fragment ApiOperationPage on ApiOperationConnection {
    totalCount
    pageInfo {
      hasNextPage
      endCursor
    }
    edges {
      node {
        ...ApiOperationFields
      }
    }
  }
`);

// The pages after the first (which comes with the API's page in its one request).
export const ApiOperationsDocument = graphql(`
  query ApiOperations($id: ID!, $first: Int!, $after: String) {
    node(id: $id) {
      __typename
      ... on Api {
        id
        operations(first: $first, after: $after) {
          ...ApiOperationPage
        }
      }
    }
  }
`);

export const CreateApiOperationDocument = graphql(`
  mutation CreateApiOperation($input: CreateApiOperationInput!) {
    createApiOperation(input: $input) {
      apiOperation {
        ...ApiOperationFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const UpdateApiOperationDocument = graphql(`
  mutation UpdateApiOperation($input: UpdateApiOperationInput!) {
    updateApiOperation(input: $input) {
      apiOperation {
        ...ApiOperationFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const DeleteApiOperationDocument = graphql(`
  mutation DeleteApiOperation($input: DeleteApiOperationInput!) {
    deleteApiOperation(input: $input) {
      deletedApiOperationId
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const OperationChangeFragment = graphql(`
  fragment OperationChange on OpenApiOperationChange {
    method
    path
    name
    scopes
    previousName
    previousScopes
  }
`);

export const ImportOpenApiDocument = graphql(`
  mutation ImportOpenApi($input: ImportOpenApiInput!) {
    importOpenApi(input: $input) {
      added {
        ...OperationChange
      }
      changed {
        ...OperationChange
      }
      removed {
        ...OperationChange
      }
      unchangedCount
      dryRun
      pruned
      userErrors {
        field
        message
        code
      }
    }
  }
`);
