import { Alert, Button, Checkbox, Fieldset, Group, Modal, NumberInput, Select, Stack, TextInput, Textarea } from "@mantine/core";
import { useMemo, useState } from "react";
import { useMutation } from "urql";
import { byField, describeError } from "../core/errors";
import { useWorkspace } from "../core/workspace";
import type { PlanFieldsFragment, QuotaPeriod, RateLimitPeriod, Weekday } from "../gql/graphql";
import { CreatePlanDocument, UpdatePlanDocument } from "./documents";
import { QUOTA_PERIODS, RATE_PERIODS, WEEKDAYS, initialPlan, planInput, withoutErrorsOf, type PlanValues } from "./plan";

const LOCAL_ZONE = Intl.DateTimeFormat().resolvedOptions().timeZone || "UTC";

interface SectionProps {
  values: PlanValues;
  errors: Record<string, string>;
  onChange: (patch: Partial<PlanValues>) => void;
}

/** A limit's count and period, shown once its box is ticked. */
function LimitsSection({ values, errors, onChange }: SectionProps) {
  return (
    <Fieldset legend="Limits">
      <Stack>
        <Checkbox label="Rate limit" checked={values.rateLimitOn} onChange={(e) => onChange({ rateLimitOn: e.currentTarget.checked })} />
        {values.rateLimitOn && (
          <Group grow align="flex-start">
            <NumberInput label="Requests" min={1} allowDecimal={false} value={values.rateRequests} onChange={(rateRequests) => onChange({ rateRequests })} error={errors["rateLimit.requests"] ?? errors.rateLimit} />
            <Select label="Rate period" data={RATE_PERIODS} value={values.ratePeriod} allowDeselect={false} onChange={(v) => onChange({ ratePeriod: (v ?? "MINUTE") as RateLimitPeriod })} />
          </Group>
        )}
        <Checkbox label="Quota" checked={values.quotaOn} onChange={(e) => onChange({ quotaOn: e.currentTarget.checked })} />
        {values.quotaOn && (
          <Group grow align="flex-start">
            <NumberInput label="Quota requests" min={1} allowDecimal={false} value={values.quotaRequests} onChange={(quotaRequests) => onChange({ quotaRequests })} error={errors["quota.requests"] ?? errors.quota} />
            <Select label="Quota period" data={QUOTA_PERIODS} value={values.quotaPeriod} allowDeselect={false} onChange={(v) => onChange({ quotaPeriod: (v ?? "DAY") as QuotaPeriod })} />
          </Group>
        )}
      </Stack>
    </Fieldset>
  );
}

/** The days and hours calls may come, in one time zone; an end before the start runs past midnight. */
function WindowSection({ values, errors, onChange }: SectionProps) {
  const zones = useMemo(() => {
    const all = Intl.supportedValuesOf("timeZone");
    return all.includes("UTC") ? all : ["UTC", ...all];
  }, []);
  return (
    <Fieldset legend="Time window">
      <Stack>
        <Checkbox label="Only at certain times" checked={values.windowOn} onChange={(e) => onChange({ windowOn: e.currentTarget.checked })} />
        {values.windowOn && (
          <>
            <Checkbox.Group label="Days" value={values.days} onChange={(days) => onChange({ days: days as Weekday[] })} error={errors["timeWindow.days"]}>
              <Group gap="md" mt={4}>
                {WEEKDAYS.map((day) => (
                  <Checkbox key={day.value} value={day.value} label={day.label} />
                ))}
              </Group>
            </Checkbox.Group>
            <Group grow align="flex-start">
              <TextInput type="time" label="Start" value={values.start} onChange={(e) => onChange({ start: e.currentTarget.value })} error={errors["timeWindow.start"]} />
              <TextInput type="time" label="End" description="Before the start: runs past midnight." value={values.end} onChange={(e) => onChange({ end: e.currentTarget.value })} error={errors["timeWindow.end"]} />
            </Group>
            <Select label="Time zone" data={zones} searchable value={values.timeZone} allowDeselect={false} onChange={(v) => onChange({ timeZone: v ?? LOCAL_ZONE })} error={errors["timeWindow.timeZone"]} />
          </>
        )}
      </Stack>
    </Fieldset>
  );
}

/** Create or edit a plan; the server's userErrors land on their fields. */
export function PlanFormModal({ plan, onClose, onSaved }: { plan: PlanFieldsFragment | null; onClose: () => void; onSaved: (name: string) => void }) {
  const { membership } = useWorkspace();
  const [values, setValues] = useState<PlanValues>(() => initialPlan(plan, LOCAL_ZONE));
  const [errors, setErrors] = useState<Record<string, string>>({});
  const [created, create] = useMutation(CreatePlanDocument);
  const [updated, update] = useMutation(UpdatePlanDocument);
  const patch = (change: Partial<PlanValues>) => {
    setValues((current) => ({ ...current, ...change }));
    setErrors((current) => withoutErrorsOf(current, change));
  };

  async function submit() {
    if (!values.name.trim()) return setErrors({ name: "A name is required." });
    const input = planInput(values);
    const result = plan
      ? await update({ input: { id: plan.id, ...input } }).then((r) => ({ payload: r.data?.updatePlan, error: r.error }))
      : await create({ input: { workspaceId: membership.workspace.id, ...input, name: values.name, description: values.description, autoApprove: values.autoApprove } }).then((r) => ({
          payload: r.data?.createPlan,
          error: r.error,
        }));
    if (!result.payload) return setErrors({ "": describeError(result.error) });
    if (result.payload.userErrors.length) return setErrors(byField(result.payload.userErrors));
    onSaved(result.payload.plan?.name ?? values.name);
  }

  return (
    <Modal opened onClose={onClose} title={plan ? `Edit ${plan.name}` : "New plan"} size="lg">
      <form
        onSubmit={(event) => {
          event.preventDefault();
          void submit();
        }}
      >
        <Stack>
          {errors[""] && (
            <Alert color="red" role="alert">
              {errors[""]}
            </Alert>
          )}
          <TextInput label="Name" required maxLength={100} value={values.name} onChange={(e) => patch({ name: e.currentTarget.value })} error={errors.name} data-autofocus />
          <Textarea label="Description" autosize minRows={2} value={values.description} onChange={(e) => patch({ description: e.currentTarget.value })} error={errors.description} />
          <LimitsSection values={values} errors={errors} onChange={patch} />
          <WindowSection values={values} errors={errors} onChange={patch} />
          <Checkbox
            label="Auto approve access request"
            description="Requests for this plan are approved at once, without a person deciding."
            checked={values.autoApprove}
            onChange={(e) => patch({ autoApprove: e.currentTarget.checked })}
            error={errors.autoApprove}
          />
          <Group justify="flex-end">
            <Button variant="default" onClick={onClose}>
              Cancel
            </Button>
            <Button type="submit" loading={created.fetching || updated.fetching}>
              {plan ? "Save" : "Create plan"}
            </Button>
          </Group>
        </Stack>
      </form>
    </Modal>
  );
}
