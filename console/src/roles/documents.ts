import { graphql } from "../gql";

export const RoleFields = graphql(`
  fragment RoleFields on Role {
    id
    name
    description
    builtIn
    allApis
    permissions {
      name
      namePattern
    }
  }
`);

export const CreateRoleDocument = graphql(`
  mutation CreateRole($input: CreateRoleInput!) {
    createRole(input: $input) {
      role {
        ...RoleFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const UpdateRoleDocument = graphql(`
  mutation UpdateRole($input: UpdateRoleInput!) {
    updateRole(input: $input) {
      role {
        ...RoleFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const DeleteRoleDocument = graphql(`
  mutation DeleteRole($input: DeleteRoleInput!) {
    deleteRole(input: $input) {
      deletedRoleId
      userErrors {
        field
        message
        code
      }
    }
  }
`);
