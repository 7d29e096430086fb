import { describe, expect, it } from "vitest";
import {
  addToCart,
  cartAuthMethod,
  cartProblems,
  parseCart,
  plansOf,
  removeFromCart,
  withOnePlan,
  type CartPlan,
  type CartProduct,
} from "./cart";

const payments: CartProduct = { id: "p1", name: "Payments", authMethod: "AUTH_TOKEN" };
const refunds: CartProduct = { id: "p2", name: "Refunds", authMethod: "AUTH_TOKEN" };
const ledger: CartProduct = { id: "p3", name: "Ledger", authMethod: "JWT" };
const free: CartPlan = { id: "f", name: "Free", autoApprove: true };
const gold: CartPlan = { id: "g", name: "Gold", autoApprove: false };

describe("the cart", () => {
  it("adds products, and moves a product added again to its new plan", () => {
    let cart = addToCart([], payments, free);
    cart = addToCart(cart, refunds, free);
    cart = addToCart(cart, payments, gold);
    expect(cart.map((i) => [i.product.name, i.plan.name])).toEqual([
      ["Refunds", "Free"],
      ["Payments", "Gold"],
    ]);
    expect(removeFromCart(cart, "p2").map((i) => i.product.name)).toEqual(["Payments"]);
  });

  it("can be submitted with one method and one plan", () => {
    const cart = addToCart(addToCart([], payments, free), refunds, free);
    expect(cartProblems(cart)).toEqual([]);
    expect(cartAuthMethod(cart)).toBe("AUTH_TOKEN");
  });

  it("is refused empty", () => {
    expect(cartProblems([])).toHaveLength(1);
    expect(cartAuthMethod([])).toBeNull();
  });

  it("is refused with two authentication methods, naming them", () => {
    const cart = addToCart(addToCart([], payments, free), ledger, free);
    expect(cartProblems(cart)).toEqual([
      "All products must use the same authentication method; this cart mixes Auth token, JWT. Remove the others.",
    ]);
    expect(cartAuthMethod(cart)).toBeNull();
  });

  it("is refused with two plans until one is chosen for all", () => {
    const cart = addToCart(addToCart([], payments, free), refunds, gold);
    expect(plansOf(cart).map((p) => p.name)).toEqual(["Free", "Gold"]);
    expect(cartProblems(cart)).toEqual(["A request has a single plan; this cart has Free, Gold. Choose one."]);
    expect(cartProblems(withOnePlan(cart, gold))).toEqual([]);
  });

  it("is refused beyond 50 products", () => {
    let cart = addToCart([], payments, free);
    for (let n = 0; n < 50; n++) cart = addToCart(cart, { ...payments, id: `x${n}` }, free);
    expect(cartProblems(cart)).toEqual(["A request holds at most 50 products."]);
  });
});

describe("parseCart", () => {
  it("reads a stored cart and drops anything else", () => {
    const cart = addToCart([], payments, free);
    expect(parseCart(JSON.stringify(cart))).toEqual(cart);
    expect(parseCart(null)).toEqual([]);
    expect(parseCart("{not json")).toEqual([]);
    expect(parseCart(JSON.stringify([{ product: { id: 1 } }]))).toEqual([]);
    expect(parseCart(JSON.stringify({ product: payments, plan: free }))).toEqual([]);
  });
});
