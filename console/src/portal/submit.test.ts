import { describe, expect, it } from "vitest";
import { addToCart, type CartPlan } from "./cart";
import { choiceProblems, formErrors, NO_APP, submitInput } from "./submit";

const free: CartPlan = { id: "f", name: "Free", autoApprove: true };
const cart = addToCart(addToCart([], { id: "p1", name: "Payments", authMethod: "AUTH_TOKEN" }, free), { id: "p2", name: "Refunds", authMethod: "AUTH_TOKEN" }, free);

describe("the cart's app", () => {
  it("needs an app chosen, or a new one's name and client", () => {
    expect(choiceProblems({ ...NO_APP, mode: "existing" }, "AUTH_TOKEN")).toEqual({ appId: "Choose an app." });
    expect(Object.keys(choiceProblems(NO_APP, "AUTH_TOKEN"))).toEqual(["name", "clientId"]);
    expect(choiceProblems({ ...NO_APP, name: "mobile", clientId: "c" }, "AUTH_TOKEN")).toEqual({});
  });

  it("checks allowed IPs as typed, and a trusted issuer for token methods", () => {
    const app = { ...NO_APP, name: "mobile", clientId: "c", allowedIps: "10.0.0.1/24" };
    expect(choiceProblems(app, "AUTH_TOKEN").allowedIps).toContain("host bits");
    const jwt = { ...NO_APP, name: "mobile", clientId: "c", trustedIssuer: "http://idp" };
    expect(Object.keys(choiceProblems(jwt, "JWT"))).toEqual(["trustedIssuer"]);
    expect(choiceProblems({ ...jwt, trustedIssuer: "https://idp" }, "JWT")).toEqual({});
  });

  it("sends the products, the one plan and the app", () => {
    expect(submitInput(cart, { ...NO_APP, mode: "existing", appId: "a1" })).toEqual({ productIds: ["p1", "p2"], planId: "f", accessProfileId: "a1" });
    expect(submitInput(cart, { ...NO_APP, name: " mobile ", clientId: "c", allowedIps: "10.0.0.1, 10.0.0.1\n2001:db8::/32" })).toEqual({
      productIds: ["p1", "p2"],
      planId: "f",
      newAccessProfile: { clientId: "c", name: "mobile", allowedIps: ["10.0.0.1", "2001:db8::/32"] },
    });
  });

  it("puts the server's userErrors on their fields, the others on the form", () => {
    expect(
      formErrors([
        { field: "newAccessProfile.allowedIps", message: "Bad." },
        { field: "productIds", message: "Mixed methods." },
        { field: null, message: "Other." },
      ]),
    ).toEqual({ allowedIps: "Bad.", "": "Mixed methods. Other." });
  });
});
