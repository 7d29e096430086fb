import { graphql } from "../gql";

export const ProductFieldsFragment = graphql(`
  fragment ProductFields on ApiProduct {
    id
    name
    description
    authMethod
    published
    createdAt
    apis {
      id
      name
    }
    operations(first: 100) {
      totalCount
      edges {
        node {
          id
          apiId
          method
          path
        }
      }
    }
  }
`);

// The catalogue with drafts (for manageProducts), each product's APIs, in one request.
export const ProductListDocument = graphql(`
  query ProductList($workspaceId: ID!, $first: Int!, $after: String, $filter: ApiProductFilter) {
    workspace(id: $workspaceId) {
      id
      products(first: $first, after: $after, filter: $filter) {
        totalCount
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          node {
            ...ProductFields
          }
        }
      }
    }
  }
`);

export const CreateProductDocument = graphql(`
  mutation CreateApiProduct($input: CreateApiProductInput!) {
    createApiProduct(input: $input) {
      apiProduct {
        ...ProductFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const UpdateProductDocument = graphql(`
  mutation UpdateApiProduct($input: UpdateApiProductInput!) {
    updateApiProduct(input: $input) {
      apiProduct {
        ...ProductFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const DeleteProductDocument = graphql(`
  mutation DeleteApiProduct($input: DeleteApiProductInput!) {
    deleteApiProduct(input: $input) {
      deletedApiProductId
      userErrors {
        field
        message
        code
      }
    }
  }
`);
