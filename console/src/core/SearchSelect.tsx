import { MultiSelect, Select } from "@mantine/core";
import { useDebouncedValue } from "@mantine/hooks";
import { useState } from "react";
import { useQuery } from "urql";
import { graphql } from "../gql";
import { useWorkspace } from "./workspace";

export interface Option {
  value: string;
  label: string;
}

export type SearchKind = "apis" | "products" | "plans";

const SearchOptionsDocument = graphql(`
  query SearchOptions($workspaceId: ID!, $search: String, $apis: Boolean!, $products: Boolean!, $plans: Boolean!) {
    workspace(id: $workspaceId) {
      id
      apis(first: 50, filter: { search: $search }) @include(if: $apis) {
        edges {
          node {
            id
            name
          }
        }
      }
      products(first: 50, filter: { search: $search }) @include(if: $products) {
        edges {
          node {
            id
            name
            authMethod
          }
        }
      }
      plans(first: 50, search: $search) @include(if: $plans) {
        edges {
          node {
            id
            name
          }
        }
      }
    }
  }
`);

/** Choices searched on the server (asked once the field is opened), so any workspace size works. */
function useServerOptions(kind: SearchKind, known: Option[], shown = "") {
  const { membership } = useWorkspace();
  const [search, setSearch] = useState("");
  const [opened, setOpened] = useState(false);
  const [term] = useDebouncedValue(search, 250);
  const [{ data, fetching }] = useQuery({
    query: SearchOptionsDocument,
    variables: {
      workspaceId: membership.workspace.id,
      // A single select shows its choice in the search box: that is no search.
      search: term && term !== shown ? term : null,
      apis: kind === "apis",
      products: kind === "products",
      plans: kind === "plans",
    },
    pause: !opened,
  });
  const workspace = data?.workspace;
  const found: Option[] = [
    ...(workspace?.apis?.edges ?? []).map(({ node }) => ({ value: node.id, label: node.name })),
    ...(workspace?.products?.edges ?? []).map(({ node }) => ({ value: node.id, label: `${node.name} (${node.authMethod})` })),
    ...(workspace?.plans?.edges ?? []).map(({ node }) => ({ value: node.id, label: node.name })),
  ];
  const seen = new Set(known.map((o) => o.value));
  const options = [...known, ...found.filter((o) => !seen.has(o.value))];
  return { search, setSearch, options, open: () => setOpened(true), fetching };
}

interface Common {
  kind: SearchKind;
  label: string;
  description?: string;
  placeholder?: string;
  error?: string;
  disabled?: boolean;
}

/** Several APIs, products or plans, searched on the server; `value` carries their labels. */
export function SearchMultiSelect({ value, onChange, ...props }: Common & { value: Option[]; onChange: (value: Option[]) => void }) {
  const { search, setSearch, options, open, fetching } = useServerOptions(props.kind, value);
  return (
    <MultiSelect
      label={props.label}
      description={props.description}
      placeholder={props.placeholder ?? "Search by name"}
      error={props.error}
      disabled={props.disabled}
      searchable
      searchValue={search}
      onSearchChange={setSearch}
      onDropdownOpen={open}
      filter={({ options: shown }) => shown}
      data={options}
      value={value.map((o) => o.value)}
      onChange={(ids) => onChange(ids.map((id) => options.find((o) => o.value === id) ?? { value: id, label: id }))}
      nothingFoundMessage={fetching ? "Searching…" : "Nothing found"}
      clearable
    />
  );
}

/** One API, product or plan searched on the server (null: none). */
export function SearchSelect({ value, onChange, ...props }: Common & { value: Option | null; onChange: (value: Option | null) => void }) {
  const { search, setSearch, options, open, fetching } = useServerOptions(props.kind, value ? [value] : [], value?.label);
  return (
    <Select
      label={props.label}
      description={props.description}
      placeholder={props.placeholder ?? "Search by name"}
      error={props.error}
      disabled={props.disabled}
      searchable
      searchValue={search}
      onSearchChange={setSearch}
      onDropdownOpen={open}
      filter={({ options: shown }) => shown}
      data={options}
      value={value?.value ?? null}
      onChange={(id) => onChange(options.find((o) => o.value === id) ?? null)}
      nothingFoundMessage={fetching ? "Searching…" : "Nothing found"}
      clearable
    />
  );
}
