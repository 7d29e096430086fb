import { describe, expect, it } from "vitest";
import { choiceOf, emptyChoices, operationIdsToSend, operationsLabel } from "./operations";

const ops = [
  { id: "o1", apiId: "a", method: "GET", path: "/invoices" },
  { id: "o2", apiId: "b", method: "POST", path: "/pay" },
  { id: "o3", apiId: "a", method: "DELETE", path: "/invoices/{id}" },
];

describe("product operations", () => {
  it("groups the chosen operations by API", () => {
    expect(choiceOf(ops)).toEqual({ a: ["o1", "o3"], b: ["o2"] });
    expect(choiceOf([])).toEqual({});
  });

  it("sends the operations of the APIs still chosen only", () => {
    expect(operationIdsToSend(["b", "c"], choiceOf(ops))).toEqual(["o2"]);
    expect(operationIdsToSend(["a", "b"], choiceOf(ops))).toEqual(["o1", "o3", "o2"]);
  });

  it("asks for operations when an API is set to chosen ones but none is picked", () => {
    expect(emptyChoices(["a", "b"], { a: [], b: ["o2"] }, { a: "Invoices" })).toEqual({ "operations:a": "Pick operations of Invoices, or choose Whole API." });
    expect(emptyChoices(["a"], {}, {})).toEqual({});
  });

  it("names an API's chosen operations", () => {
    expect(operationsLabel("a", ops)).toBe("GET /invoices, DELETE /invoices/{id}");
    expect(operationsLabel("c", ops)).toBe("");
  });
});
