import { graphql } from "../gql";

export const GroupPayloadFields = graphql(`
  fragment GroupPayloadFields on GroupPayload {
    group {
      id
      name
      description
      membersCount
    }
    userErrors {
      field
      message
      code
    }
  }
`);

export const CreateGroupDocument = graphql(`
  mutation CreateGroup($input: CreateGroupInput!) {
    createGroup(input: $input) {
      ...GroupPayloadFields
    }
  }
`);

export const UpdateGroupDocument = graphql(`
  mutation UpdateGroup($input: UpdateGroupInput!) {
    updateGroup(input: $input) {
      ...GroupPayloadFields
    }
  }
`);

export const AddGroupMembersDocument = graphql(`
  mutation AddGroupMembers($input: GroupMembersInput!) {
    addGroupMembers(input: $input) {
      ...GroupPayloadFields
    }
  }
`);

export const RemoveGroupMembersDocument = graphql(`
  mutation RemoveGroupMembers($input: GroupMembersInput!) {
    removeGroupMembers(input: $input) {
      ...GroupPayloadFields
    }
  }
`);

export const DeleteGroupDocument = graphql(`
  mutation DeleteGroup($input: DeleteGroupInput!) {
    deleteGroup(input: $input) {
      deletedGroupId
      userErrors {
        field
        message
        code
      }
    }
  }
`);
