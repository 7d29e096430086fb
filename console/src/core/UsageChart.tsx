// The chart itself, in a chunk of its own (recharts is large): screens load it lazily.
import "@mantine/charts/styles.css";
import { BarChart } from "@mantine/charts";

export interface UsageChartRow {
  label: string;
  Allowed: number;
  Denied: number;
}

const SERIES = [
  { name: "Allowed", color: "teal.8" },
  { name: "Denied", color: "red.8" },
];

/** Allowed and denied calls per bucket, stacked. */
export default function UsageChart({ rows }: { rows: UsageChartRow[] }) {
  return <BarChart h={200} data={rows} dataKey="label" type="stacked" series={SERIES} withLegend tickLine="y" />;
}
