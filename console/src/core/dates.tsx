import { Tooltip } from "@mantine/core";

const FORMAT = new Intl.DateTimeFormat(undefined, { dateStyle: "medium", timeStyle: "short" });

export function formatDate(iso: string): string {
  return FORMAT.format(new Date(iso));
}

/** A date in the reader's locale, with the exact UTC value on hover. */
export function DateTime({ value }: { value: string | null | undefined }) {
  if (!value) return <span>—</span>;
  const date = new Date(value);
  return (
    <Tooltip label={`${date.toISOString().replace("T", " ").slice(0, 19)} UTC`} withArrow>
      <time dateTime={date.toISOString()}>{FORMAT.format(date)}</time>
    </Tooltip>
  );
}
