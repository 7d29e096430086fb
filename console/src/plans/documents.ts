import { graphql } from "../gql";

export const PlanFieldsFragment = graphql(`
  fragment PlanFields on Plan {
    id
    name
    description
    autoApprove
    createdAt
    rateLimit {
      requests
      period
    }
    quota {
      requests
      period
    }
    timeWindow {
      days
      start
      end
      timeZone
    }
  }
`);

export const PlanListDocument = graphql(`
  query PlanList($workspaceId: ID!, $first: Int!, $after: String, $search: String) {
    workspace(id: $workspaceId) {
      id
      plans(first: $first, after: $after, search: $search) {
        totalCount
        pageInfo {
          hasNextPage
          endCursor
        }
        edges {
          node {
            ...PlanFields
          }
        }
      }
    }
  }
`);

export const CreatePlanDocument = graphql(`
  mutation CreatePlan($input: CreatePlanInput!) {
    createPlan(input: $input) {
      plan {
        ...PlanFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const UpdatePlanDocument = graphql(`
  mutation UpdatePlan($input: UpdatePlanInput!) {
    updatePlan(input: $input) {
      plan {
        ...PlanFields
      }
      userErrors {
        field
        message
        code
      }
    }
  }
`);

export const DeletePlanDocument = graphql(`
  mutation DeletePlan($input: DeletePlanInput!) {
    deletePlan(input: $input) {
      deletedPlanId
      userErrors {
        field
        message
        code
      }
    }
  }
`);
