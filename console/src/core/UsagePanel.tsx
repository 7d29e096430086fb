import { Group, Loader, Paper, SegmentedControl, Stack, Table, Text, Title } from "@mantine/core";
import { lazy, Suspense, useRef, useState } from "react";
import { bucketLabel, fillSeries, topDenialReasons, usageTotals, usageWindow, USAGE_RANGES, type UsagePoint, type UsageRange, type UsageWindow } from "./usage";

const UsageChart = lazy(() => import("./UsageChart"));

/** The picked range and its window, fixed until another range is picked. */
export function useUsageWindow(): { range: UsageRange; window: UsageWindow; setRange: (range: UsageRange) => void } {
  const [state, setState] = useState(() => ({ range: "24h" as UsageRange, window: usageWindow("24h") }));
  return { ...state, setRange: (range) => setState({ range, window: usageWindow(range) }) };
}

/** The last defined value: a screen keeps showing its data while a new range loads. */
export function useKept<T>(value: T | undefined): T | undefined {
  const kept = useRef(value);
  if (value !== undefined) kept.current = value;
  return kept.current;
}

export function UsageRangeControl({ range, onChange }: { range: UsageRange; onChange: (range: UsageRange) => void }) {
  return (
    <SegmentedControl
      aria-label="Usage range"
      value={range}
      onChange={(value) => onChange(value as UsageRange)}
      data={USAGE_RANGES.map((r) => ({ value: r.value, label: r.label }))}
    />
  );
}

function UsageTable({ name, points, window }: { name: string; points: UsagePoint[]; window: UsageWindow }) {
  const unit = window.bucket === "HOUR" ? "Hour" : "Day";
  const busy = points.filter((p) => p.allowed + p.denied > 0);
  return (
    <Table aria-label={`Calls of ${name} by ${unit.toLowerCase()}`} captionSide="bottom">
      <Table.Caption>{unit}s in UTC; those without calls are left out.</Table.Caption>
      <Table.Thead>
        <Table.Tr>
          <Table.Th>{unit} (UTC)</Table.Th>
          <Table.Th>Allowed</Table.Th>
          <Table.Th>Denied</Table.Th>
          <Table.Th>Denial reasons</Table.Th>
        </Table.Tr>
      </Table.Thead>
      <Table.Tbody>
        {busy.map((p) => (
          <Table.Tr key={p.start}>
            <Table.Td>{bucketLabel(p.start, window.bucket)}</Table.Td>
            <Table.Td>{p.allowed}</Table.Td>
            <Table.Td>{p.denied}</Table.Td>
            <Table.Td>{topDenialReasons([p], 10).map((r) => `${r.reason} (${r.count})`).join(", ") || "—"}</Table.Td>
          </Table.Tr>
        ))}
      </Table.Tbody>
    </Table>
  );
}

/**
 * An app's calls over the window: a chart of allowed and denied calls (for sighted readers;
 * the table beside it says the same in text), the totals and the top denial reasons.
 */
export function UsagePanel({ name, series, window }: { name: string; series: readonly UsagePoint[]; window: UsageWindow }) {
  const points = fillSeries(series, window);
  const totals = usageTotals(points);
  const reasons = topDenialReasons(points);
  const label = USAGE_RANGES.find((r) => r.bucket === window.bucket && r.buckets === points.length)?.label ?? "This range";
  return (
    <Paper withBorder p="sm" component="section" aria-label={`Usage of ${name}`}>
      <Stack gap="xs">
        <Title order={4} size="h5">
          Usage of {name}
        </Title>
        <Text size="sm">
          {label}: {totals.allowed} allowed, {totals.denied} denied.
          {reasons.length > 0 && ` Top denial reasons: ${reasons.map((r) => `${r.reason} (${r.count})`).join(", ")}.`}
        </Text>
        {totals.allowed + totals.denied === 0 ? (
          <Text size="sm" c="dimmed">
            No calls in this range.
          </Text>
        ) : (
          <Group grow align="flex-start" wrap="wrap">
            <div role="img" aria-label={`Chart of the calls of ${name}; the table gives the same counts`} style={{ minWidth: 280 }}>
              <Suspense fallback={<Loader size="sm" aria-label="Loading the chart" />}>
                <UsageChart rows={points.map((p) => ({ label: bucketLabel(p.start, window.bucket), Allowed: p.allowed, Denied: p.denied }))} />
              </Suspense>
            </div>
            <UsageTable name={name} points={points} window={window} />
          </Group>
        )}
      </Stack>
    </Paper>
  );
}
