import { describe, expect, it } from "vitest";
import { memberIdsToSave, membersEditable } from "./members";

const members = [{ id: "a" }, { id: "b" }];

describe("a client form's members", () => {
  it("are sent when the form holds all of them", () => {
    expect(membersEditable(2, 2)).toBe(true);
    expect(memberIdsToSave(members, 2)).toEqual(["a", "b"]);
    expect(memberIdsToSave([], 0)).toEqual([]);
  });

  it("are left unchanged when the client has more than the form holds", () => {
    expect(membersEditable(100, 101)).toBe(false);
    expect(memberIdsToSave(members, 3)).toBeUndefined();
  });
});
