import { graphql } from "../gql";

export const AddMemberDocument = graphql(`
  mutation AddMember($input: AddMemberInput!) {
    addMember(input: $input) {
      member {
        id
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const UpdateMemberRoleDocument = graphql(`
  mutation UpdateMemberRole($input: UpdateMemberRoleInput!) {
    updateMemberRole(input: $input) {
      member {
        id
        role {
          id
          name
        }
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const RemoveMemberDocument = graphql(`
  mutation RemoveMember($input: RemoveMemberInput!) {
    removeMember(input: $input) {
      removedMemberId
      userErrors {
        field
        message
        code
      }
    }
  }
`);
