import { describe, expect, it } from "vitest";
import { addressProblem, parseAllowedIps } from "./allowedIps";

describe("addressProblem", () => {
  it.each(["10.0.0.1", "0.0.0.0/0", "192.168.0.0/16", "10.1.2.3/32", "::1", "2001:db8::/32", "::", "fe80::1:2", "::ffff:192.0.2.1", "2001:DB8:0:0:0:0:0:1/128"])(
    "accepts %s",
    (text) => expect(addressProblem(text)).toBeNull(),
  );

  it.each([
    ["10.0.0.300", "is not an IP address"],
    ["10.0.0", "is not an IP address"],
    ["010.0.0.1", "is not an IP address"],
    ["example.com", "is not an IP address"],
    ["1::2::3", "is not an IP address"],
    ["1:2:3:4:5:6:7:8:9", "is not an IP address"],
    ["1:2:3:4:5:6:7", "is not an IP address"],
    ["10.0.0.0/33", "the prefix length must be 0 to 32"],
    ["2001:db8::/129", "the prefix length must be 0 to 128"],
    ["10.0.0.0/8/1", "is not an IP address"],
    ["10.0.0.1/24", "has host bits set"],
    ["2001:db8::1/32", "has host bits set"],
  ])("refuses %s", (text, problem) => expect(addressProblem(text)).toContain(problem));
});

describe("parseAllowedIps", () => {
  it("splits on commas and lines, trims, and drops blanks and repeats", () => {
    expect(parseAllowedIps(" 10.0.0.1, 10.0.0.0/8\n\n::1\r\n10.0.0.1,")).toEqual({
      values: ["10.0.0.1", "10.0.0.0/8", "::1"],
      errors: [],
    });
  });

  it("names every entry that is not valid", () => {
    expect(parseAllowedIps("10.0.0.1, nope\n10.0.0.1/24").errors).toEqual([
      "nope is not an IP address or CIDR range.",
      "10.0.0.1/24 has host bits set: write the network's first address.",
    ]);
  });

  it("is empty for empty text (any address may call)", () => {
    expect(parseAllowedIps("  \n ,")).toEqual({ values: [], errors: [] });
  });

  it("says when there are more than the server takes", () => {
    const many = Array.from({ length: 101 }, (_, i) => `10.0.${Math.floor(i / 256)}.${i % 256}`).join(",");
    expect(parseAllowedIps(many).errors).toEqual(["At most 100 addresses or ranges."]);
  });
});
