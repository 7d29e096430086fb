// The allowed IPs of an app as typed: addresses and CIDR ranges, IPv4 and IPv6, separated by
// commas or line breaks. The server parses them again (and normalises them); this says what is
// wrong while the person types, with the same rules: a range with host bits set is refused.

export const MAX_ALLOWED_IPS = 100; // the server's limit

export interface ParsedIps {
  values: string[];
  errors: string[];
}

function ipv4(text: string): bigint | null {
  const parts = text.split(".");
  if (parts.length !== 4) return null;
  let value = 0n;
  for (const part of parts) {
    if (!/^\d{1,3}$/.test(part) || (part.length > 1 && part.startsWith("0"))) return null;
    const octet = Number(part);
    if (octet > 255) return null;
    value = (value << 8n) | BigInt(octet);
  }
  return value;
}

function groupsOf(text: string): bigint[] | null {
  if (text === "") return [];
  const groups: bigint[] = [];
  const parts = text.split(":");
  for (const [index, part] of parts.entries()) {
    if (index === parts.length - 1 && part.includes(".")) {
      // An IPv4 address in the last 32 bits, e.g. ::ffff:192.0.2.1.
      const embedded = ipv4(part);
      if (embedded === null) return null;
      groups.push(embedded >> 16n, embedded & 0xffffn);
    } else if (/^[0-9a-f]{1,4}$/i.test(part)) {
      groups.push(BigInt(parseInt(part, 16)));
    } else {
      return null;
    }
  }
  return groups;
}

function ipv6(text: string): bigint | null {
  const halves = text.split("::");
  if (halves.length > 2) return null;
  const head = groupsOf(halves[0] ?? "");
  const tail = halves.length === 2 ? groupsOf(halves[1] ?? "") : [];
  if (head === null || tail === null) return null;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return null;
  const all = [...head, ...Array<bigint>(missing).fill(0n), ...tail];
  return all.reduce((value, group) => (value << 16n) | group, 0n);
}

/** Why `text` is not an address or CIDR range, or null when it is one. */
export function addressProblem(text: string): string | null {
  const [address = "", prefix, extra] = text.split("/");
  if (extra !== undefined) return `${text} is not an IP address or CIDR range.`;
  const v4 = ipv4(address);
  const value = v4 ?? (address.includes(":") ? ipv6(address) : null);
  if (value === null) return `${text} is not an IP address or CIDR range.`;
  if (prefix === undefined) return null;
  const bits = v4 !== null ? 32 : 128;
  if (!/^\d{1,3}$/.test(prefix) || Number(prefix) > bits) {
    return `${text}: the prefix length must be 0 to ${bits}.`;
  }
  const hostBits = BigInt(bits - Number(prefix));
  if (hostBits > 0n && (value & ((1n << hostBits) - 1n)) !== 0n) {
    return `${text} has host bits set: write the network's first address.`;
  }
  return null;
}

/** Splits on commas and line breaks, drops blanks and repeats, and says what is not valid. */
export function parseAllowedIps(text: string): ParsedIps {
  const pieces = text
    .split(/[,\n\r]+/)
    .map((piece) => piece.trim())
    .filter(Boolean);
  const values = [...new Set(pieces)];
  const errors = values.map(addressProblem).filter((problem): problem is string => problem !== null);
  if (values.length > MAX_ALLOWED_IPS) errors.unshift(`At most ${MAX_ALLOWED_IPS} addresses or ranges.`);
  return { values, errors };
}
