import { Anchor, Button, Card, Code, Group, SimpleGrid, Stack, Text, Title } from "@mantine/core";
import { Link } from "react-router";
import { useQuery } from "urql";
import { Empty, Loading, QueryError } from "../core/states";
import { useWorkspace } from "../core/workspace";
import type { PortalCatalogueQuery } from "../gql/graphql";
import { PortalCatalogueDocument } from "./documents";
import { AuthMethodBadge, PortalPage, usePortalPath } from "./parts";
import { useCart } from "./store";

type Product = PortalCatalogueQuery["workspace"]["products"]["edges"][number]["node"];

function ProductCard({ product }: { product: Product }) {
  const path = usePortalPath();
  return (
    <Card withBorder padding="md" component="article" aria-labelledby={`product-${product.id}`}>
      <Stack gap="xs">
        <Group justify="space-between" wrap="nowrap" align="flex-start">
          <Title order={3} size="h4" id={`product-${product.id}`}>
            <Anchor component={Link} to={path(`products/${product.id}`)}>
              {product.name}
            </Anchor>
          </Title>
          <AuthMethodBadge method={product.authMethod} />
        </Group>
        <Text size="sm">{product.description || "No description."}</Text>
        <Text size="sm" fw={600}>
          APIs
        </Text>
        {product.apis.length === 0 && (
          <Text size="sm" c="dimmed">
            None yet.
          </Text>
        )}
        {product.apis.map((api) => (
          <Group key={api.id} gap="xs" wrap="wrap">
            <Text size="sm">{api.name}</Text>
            {api.baseUrl && <Code style={{ wordBreak: "break-all" }}>{api.baseUrl}</Code>}
          </Group>
        ))}
        <Group justify="flex-end">
          <Button component={Link} to={path(`products/${product.id}`)} variant="default" size="xs" aria-label={`See plans of ${product.name}`}>
            See plans
          </Button>
        </Group>
      </Stack>
    </Card>
  );
}

/** The catalogue: the published products, their APIs and base URLs, and how apps authenticate. */
export function CataloguePage() {
  const { membership } = useWorkspace();
  const [cart] = useCart(membership.workspace.id);
  const path = usePortalPath();
  const [{ data, error, fetching }] = useQuery({
    query: PortalCatalogueDocument,
    variables: { workspaceId: membership.workspace.id },
  });
  const products = data?.workspace.products.edges.map((edge) => edge.node) ?? [];
  const actions = (
    <Button component={Link} to={path("cart")} variant="default">
      Cart ({cart.length})
    </Button>
  );
  return (
    <PortalPage title="API catalogue" actions={actions}>
      <Text c="dimmed" size="sm">
        Choose a product, then a plan: “Access with this Plan” puts both in your cart.
      </Text>
      {error && <QueryError error={error} />}
      {fetching && !data && <Loading />}
      {data && products.length === 0 && <Empty title="No published product yet">Come back later.</Empty>}
      <SimpleGrid cols={{ base: 1, md: 2 }}>
        {products.map((product) => (
          <ProductCard key={product.id} product={product} />
        ))}
      </SimpleGrid>
    </PortalPage>
  );
}
