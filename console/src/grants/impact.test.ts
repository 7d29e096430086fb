import { describe, expect, it } from "vitest";
import { impactSentence, peopleLosingAccess } from "./impact";

describe("peopleLosingAccess", () => {
  const groups = [
    { id: "frontend", memberIds: ["sarah", "tom"] },
    { id: "platform", memberIds: ["tom", "ana"] },
  ];

  it("counts a group's members who have no direct grant and no other granted group", () => {
    expect(peopleLosingAccess([], groups, [], ["frontend"])).toBe(1); // sarah; tom keeps platform
  });

  it("leaves members with a direct grant their access", () => {
    expect(peopleLosingAccess(["sarah"], groups, [], ["frontend"])).toBe(0);
  });

  it("counts direct grants whose people have no group", () => {
    expect(peopleLosingAccess(["sarah", "zoe"], groups, ["sarah", "zoe"], [])).toBe(1); // zoe
  });

  it("counts everyone when everything goes", () => {
    expect(peopleLosingAccess(["zoe"], groups, ["zoe"], ["frontend", "platform"])).toBe(4);
  });
});

describe("impactSentence", () => {
  it("names what goes and who loses access", () => {
    expect(impactSentence(1, 1, 2)).toBe(
      "Revoke 1 direct grant and 1 group grant? 2 people lose access to this API (the others keep it through a direct grant or another group).",
    );
    expect(impactSentence(0, 2, 0)).toBe("Revoke 2 group grants? Nobody loses access: everyone keeps it through another grant.");
  });
});
