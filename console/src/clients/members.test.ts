import { describe, expect, it } from "vitest";
import { memberIdsToSave, membersEditable } from "./members";

const members = [{ id: "a" }, { id: "b" }];

describe("a client form's members", () => {
  it("are sent when the form was given all of them, after additions or removals", () => {
    expect(membersEditable(2, 2)).toBe(true);
    expect(memberIdsToSave(members, 2, 2)).toEqual(["a", "b"]);
    expect(memberIdsToSave(members, 3, 3)).toEqual(["a", "b"]);
    expect(memberIdsToSave(members, 0, 0)).toEqual(["a", "b"]);
    expect(memberIdsToSave([], 1, 1)).toEqual([]);
  });

  it("are left unchanged when the client has more than the form was given", () => {
    expect(membersEditable(100, 101)).toBe(false);
    expect(memberIdsToSave(members, 100, 101)).toBeUndefined();
  });
});
