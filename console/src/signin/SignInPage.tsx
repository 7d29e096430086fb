import { Alert, Anchor, Button, Card, Center, Divider, PasswordInput, Stack, Text, Title } from "@mantine/core";
import { useState, type FormEvent } from "react";
import { Navigate, useNavigate, useSearchParams } from "react-router";
import { loginUrl, readConfig } from "../core/config";
import { useSession } from "../core/SessionContext";
import { safeNext, signInWithKey } from "../core/session";

export function SignInPage() {
  const [params] = useSearchParams();
  const next = safeNext(params.get("next"));
  const { session, setSession } = useSession();
  const navigate = useNavigate();
  const [key, setKey] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const { providers } = readConfig();

  if (session?.authenticated) return <Navigate to={next} replace />;

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!key.trim()) {
      setError("Paste an API key (it starts with apk_).");
      return;
    }
    setBusy(true);
    const result = await signInWithKey(key);
    setBusy(false);
    setKey(""); // the key is not kept, not even in the form
    if (!result.ok) {
      setError(result.message);
      return;
    }
    setSession(result.session);
    navigate(next, { replace: true });
  }

  return (
    <Center mih="100vh" p="md">
      <Card withBorder shadow="sm" padding="xl" w={420} maw="100%" component="main">
        <Stack>
          <Title order={1} size="h2">
            Sign in to AccessPlane
          </Title>
          {providers.map((provider) => (
            <Button key={provider.key} component="a" href={loginUrl(provider, next)} variant="default" fullWidth>
              Sign in with {provider.name}
            </Button>
          ))}
          {providers.length > 0 && <Divider label="or" labelPosition="center" />}
          <form onSubmit={submit} autoComplete="off" noValidate>
            <Stack gap="sm">
              <PasswordInput
                label="API key"
                description="The Owner key printed at first start, or any API Access key."
                placeholder="apk_…"
                value={key}
                onChange={(event) => {
                  setKey(event.currentTarget.value);
                  setError("");
                }}
                error={error || undefined}
                autoComplete="off"
                spellCheck={false}
              />
              <Button type="submit" loading={busy} fullWidth>
                Sign in with an API key
              </Button>
            </Stack>
          </form>
          <Text size="xs" c="dimmed">
            The key is exchanged for a session cookie and not kept by this page. Explore the API in{" "}
            <Anchor href="/graphql" size="xs">
              GraphiQL
            </Anchor>
            .
          </Text>
          {params.get("expired") && (
            <Alert color="yellow" role="status">
              Your session has ended. Sign in again to continue.
            </Alert>
          )}
        </Stack>
      </Card>
    </Center>
  );
}
