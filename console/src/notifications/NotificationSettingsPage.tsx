import { Alert, Badge, Button, Code, Group, Paper, Stack, Text, TextInput, Title } from "@mantine/core";
import { notifications } from "@mantine/notifications";
import { useState } from "react";
import { useMutation, useQuery } from "urql";
import { describeError } from "../core/errors";
import { Guarded } from "../core/Guarded";
import { Empty, Loading, QueryError } from "../core/states";
import { usePermission, useWorkspace } from "../core/workspace";
import { graphql } from "../gql";
import type { NotificationKind } from "../gql/graphql";
import { KIND_LABELS, changedSubjects, kindTitle, subjectErrors } from "./subjects";

const NotificationSettingsDocument = graphql(`
  query NotificationSettings($workspaceId: ID!) {
    workspace(id: $workspaceId) {
      id
      notificationSettings {
        subjects {
          kind
          subject
          isDefault
          defaultSubject
          variables
        }
      }
    }
  }
`);

const UpdateNotificationSettingsDocument = graphql(`
  mutation UpdateNotificationSettings($input: UpdateNotificationSettingsInput!) {
    updateNotificationSettings(input: $input) {
      notificationSettings {
        subjects {
          kind
          subject
          isDefault
          defaultSubject
          variables
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

/** Notification settings: the subject of each kind of email, as a template. */
export function NotificationSettingsPage() {
  const allowed = usePermission("getWorkspace");
  if (!allowed.allowed) {
    return (
      <Stack>
        <Title order={2}>Notification settings</Title>
        <Empty title="Not available with your role">{allowed.reason}</Empty>
      </Stack>
    );
  }
  return <NotificationSettingsForm />;
}

function NotificationSettingsForm() {
  const { membership } = useWorkspace();
  const workspaceId = membership.workspace.id;
  const manage = usePermission("manageNotifications");
  const [{ data, error, fetching }, refetch] = useQuery({
    query: NotificationSettingsDocument,
    variables: { workspaceId },
  });
  const [saving, save] = useMutation(UpdateNotificationSettingsDocument);
  const [edited, setEdited] = useState<Record<string, string>>({});
  const [errors, setErrors] = useState<Record<string, string>>({});

  if (error) return <QueryError error={error} />;
  if (!data && fetching) return <Loading />;
  if (!data) return null;
  const saved = data.workspace.notificationSettings.subjects;
  const changes = changedSubjects(saved, edited);

  async function submit() {
    const result = await save({
      input: { workspaceId, subjects: changes.map((c) => ({ kind: c.kind as NotificationKind, subject: c.subject })) },
    });
    const payload = result.data?.updateNotificationSettings;
    if (!payload) return setErrors({ "": describeError(result.error) });
    if (payload.userErrors.length) return setErrors(subjectErrors(payload.userErrors, saved.map((s) => s.kind)));
    setErrors({});
    setEdited({});
    notifications.show({ color: "green", message: "Notification settings saved." });
    refetch({ requestPolicy: "network-only" });
  }

  return (
    <Stack maw={860}>
      <Title order={2}>Notification settings</Title>
      <Text size="sm" c="dimmed">
        The subject line of each email AccessPlane sends for this workspace. Subjects are templates: write variables
        as <code>{"{{ key_name }}"}</code>. Leave a subject empty to restore its default.
      </Text>
      {errors[""] && (
        <Alert color="red" role="alert">
          {errors[""]}
        </Alert>
      )}
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <Stack>
          {saved.map(({ kind, subject, isDefault, defaultSubject, variables }) => {
            const value = edited[kind] ?? subject;
            const title = kindTitle(kind);
            return (
              <Paper key={kind} withBorder p="sm" role="group" aria-label={title}>
                <TextInput
                  label={
                    <Group gap={6} component="span">
                      <span>{title}</span>
                      {isDefault && edited[kind] === undefined && (
                        <Badge size="xs" variant="outline" color="gray.8">
                          Default
                        </Badge>
                      )}
                    </Group>
                  }
                  description={KIND_LABELS[kind]?.when}
                  value={value}
                  placeholder="Default subject"
                  onChange={(event) => {
                    const next = event.currentTarget.value;
                    setEdited((current) => ({ ...current, [kind]: next }));
                  }}
                  readOnly={!manage.allowed}
                  error={errors[kind]}
                  maxLength={300}
                />
                <Text size="xs" c="dimmed" mt={6}>
                  Variables:{" "}
                  {variables.map((name, index) => (
                    <span key={name}>
                      {index > 0 && ", "}
                      <Code>{`{{ ${name} }}`}</Code>
                    </span>
                  ))}
                </Text>
                {!isDefault && (
                  <Text size="xs" c="dimmed" mt={4}>
                    Default: <Code>{defaultSubject}</Code>
                  </Text>
                )}
                {!isDefault && manage.allowed && (
                  <Button
                    mt={6}
                    size="compact-xs"
                    variant="subtle"
                    onClick={() => setEdited((current) => ({ ...current, [kind]: "" }))}
                    aria-label={`Restore the default subject of ${title}`}
                  >
                    Restore default
                  </Button>
                )}
              </Paper>
            );
          })}
          <Group justify="flex-end">
            {changes.length > 0 && (
              <Button
                variant="default"
                onClick={() => {
                  setEdited({});
                  setErrors({});
                }}
              >
                Discard changes
              </Button>
            )}
            <Guarded permission="manageNotifications">
              {(disabled) => (
                <Button type="submit" disabled={disabled || changes.length === 0} loading={saving.fetching}>
                  Save
                </Button>
              )}
            </Guarded>
          </Group>
        </Stack>
      </form>
    </Stack>
  );
}
