import { Alert, Group, List, Select, Stack, Text, Title } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useState } from "react";
import { useSearchParams } from "react-router";
import { useQuery } from "urql";
import { Loading, QueryError } from "../core/states";
import { useWorkspace } from "../core/workspace";
import { graphql } from "../gql";
import { memberLabel } from "../members/labels";
import { NO_ACCESS_REASON, describePath, headline, personName } from "./explain";

const ExplainAccessDocument = graphql(`
  query ExplainAccess(
    $workspaceId: ID!
    $memberId: ID!
    $apiId: ID!
    $explain: Boolean!
    $withMember: Boolean!
    $withApi: Boolean!
    $memberSearch: String
    $apiSearch: String
  ) {
    member: node(id: $memberId) @include(if: $withMember) {
      ... on Member {
        id
        user {
          email
          name
        }
      }
    }
    api: node(id: $apiId) @include(if: $withApi) {
      ... on Api {
        id
        name
      }
    }
    workspace(id: $workspaceId) {
      id
      members(first: 50, filter: { search: $memberSearch }) {
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
      apis(first: 50, filter: { search: $apiSearch }) {
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
  // The choices are searched on the server (a workspace may have thousands of each); the
  // chosen ones come by id, so their names show whatever the search.
  const [memberSearch, setMemberSearch] = useState("");
  const [apiSearch, setApiSearch] = useState("");
  const [memberTerm] = useDebouncedValue(memberSearch, 250);
  const [apiTerm] = useDebouncedValue(apiSearch, 250);
  // What was last searched: a choice puts its label in the box, which is no new search (and
  // must not cost a request, nor clear the list just shown).
  const [searched, setSearched] = useState({ member: "", api: "" });
  const [chosen, setChosen] = useState<{ member: string; api: string }>({ member: "", api: "" });
  const [{ data, error, fetching }] = useQuery({
    query: ExplainAccessDocument,
    variables: {
      workspaceId: membership.workspace.id,
      memberId,
      apiId,
      explain: Boolean(memberId && apiId),
      withMember: Boolean(memberId),
      withApi: Boolean(apiId),
      memberSearch: searched.member || null,
      apiSearch: searched.api || null,
    },
  });
  const pick = (key: "member" | "api", value: string | null) => {
    const next = new URLSearchParams(params);
    if (value) next.set(key, value);
    else next.delete(key);
    setParams(next, { replace: true });
  };
  const workspace = data?.workspace;
  const explanation = workspace?.explainAccess;
  const memberOptions = withChosen(
    (workspace?.members.edges ?? []).map(({ node }) => ({ value: node.id, label: memberLabel(node.user) })),
    data?.member && "user" in data.member ? { value: data.member.id, label: memberLabel(data.member.user) } : null,
  );
  const apiOptions = withChosen(
    (workspace?.apis.edges ?? []).map(({ node }) => ({ value: node.id, label: node.name })),
    data?.api && "name" in data.api ? { value: data.api.id, label: data.api.name } : null,
  );
  // A chosen item's label in the search box is not a search (links arrive with a choice made).
  const memberLabelNow = memberOptions.find((o) => o.value === memberId)?.label ?? "";
  const apiLabelNow = apiOptions.find((o) => o.value === apiId)?.label ?? "";
  const labels = { member: memberLabelNow || chosen.member, api: apiLabelNow || chosen.api };
  if (labels.member !== chosen.member || labels.api !== chosen.api) setChosen(labels);
  const next = {
    member: memberTerm === labels.member ? searched.member : memberTerm,
    api: apiTerm === labels.api ? searched.api : apiTerm,
  };
  if (next.member !== searched.member || next.api !== searched.api) setSearched(next);

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
          data={memberOptions}
          filter={({ options }) => options}
          searchValue={memberSearch}
          onSearchChange={setMemberSearch}
          value={memberId || null}
          onChange={(value, option) => {
            setChosen((current) => ({ ...current, member: option?.label ?? "" }));
            pick("member", value);
          }}
          w={320}
        />
        <Select
          label="API"
          placeholder="Search by name"
          searchable
          clearable
          data={apiOptions}
          filter={({ options }) => options}
          searchValue={apiSearch}
          onSearchChange={setApiSearch}
          value={apiId || null}
          onChange={(value, option) => {
            setChosen((current) => ({ ...current, api: option?.label ?? "" }));
            pick("api", value);
          }}
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

type Option = { value: string; label: string };

/** The search's options, with the chosen one added when the search left it out. */
function withChosen(options: Option[], chosen: Option | null): Option[] {
  return chosen && !options.some((o) => o.value === chosen.value) ? [chosen, ...options] : options;
}
