import { Alert, Group, List, Select, Stack, Text, Title } from "@mantine/core";
import { useSearchParams } from "react-router";
import { useQuery } from "urql";
import { Loading, QueryError } from "../core/states";
import { useWorkspace } from "../core/workspace";
import { graphql } from "../gql";
import { memberLabel } from "../members/labels";
import { NO_ACCESS_REASON, describePath, headline, personName } from "./explain";

const ExplainAccessDocument = graphql(`
  query ExplainAccess($workspaceId: ID!, $memberId: ID!, $apiId: ID!, $explain: Boolean!) {
    workspace(id: $workspaceId) {
      id
      members(first: 100) {
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
      apis(first: 100) {
        edges {
          node {
            id
            name
          }
        }
      }
      explainAccess(memberId: $memberId, apiId: $apiId) @include(if: $explain) {
        hasAccess
        member {
          id
          user {
            email
            name
          }
        }
        api {
          id
          name
        }
        paths {
          kind
          group {
            id
            name
          }
          role {
            id
            name
          }
          grantedBy
          grantedAt
        }
      }
    }
  }
`);

/** "Sarah can see Web Application API because: ..." for any member and API. */
export function ExplainPage() {
  const { membership } = useWorkspace();
  const [params, setParams] = useSearchParams();
  const memberId = params.get("member") ?? "";
  const apiId = params.get("api") ?? "";
  const [{ data, error, fetching }] = useQuery({
    query: ExplainAccessDocument,
    variables: { workspaceId: membership.workspace.id, memberId, apiId, explain: Boolean(memberId && apiId) },
  });
  const pick = (key: "member" | "api", value: string | null) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  const workspace = data?.workspace;
  const explanation = workspace?.explainAccess;

  return (
    <Stack maw={760}>
      <Title order={2}>Explain access</Title>
      <Text c="dimmed" size="sm">
        Pick a person and an API to see every path that gives access: a direct grant, a group with a grant, or a role
        that reaches every API.
      </Text>
      <Group align="flex-end" wrap="wrap">
        <Select
          label="Person"
          placeholder="Search by name or email"
          searchable
          clearable
          data={(workspace?.members.edges ?? []).map(({ node }) => ({ value: node.id, label: memberLabel(node.user) }))}
          value={memberId || null}
          onChange={(value) => pick("member", value)}
          w={320}
        />
        <Select
          label="API"
          placeholder="Search by name"
          searchable
          clearable
          data={(workspace?.apis.edges ?? []).map(({ node }) => ({ value: node.id, label: node.name }))}
          value={apiId || null}
          onChange={(value) => pick("api", value)}
          w={280}
        />
      </Group>
      {error && <QueryError error={error} />}
      {!workspace && fetching && <Loading />}
      {explanation && (
        <section aria-label="Explanation" aria-live="polite">
        <Alert
          color={explanation.hasAccess ? "green" : "gray"}
          title={headline(personName(explanation.member.user), explanation.api.name, explanation.hasAccess)}
          role="note"
        >
          {explanation.hasAccess ? (
            <List>
              {explanation.paths.map((path, index) => (
                <List.Item key={index}>{describePath(path)}</List.Item>
              ))}
            </List>
          ) : (
            <Text size="sm">{NO_ACCESS_REASON}</Text>
          )}
        </Alert>
        </section>
      )}
    </Stack>
  );
}
