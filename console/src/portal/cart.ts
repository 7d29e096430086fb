// The developer portal's cart: products, each added with the plan it was chosen with. A request
// carries ONE plan and products of ONE authentication method, so the cart says what breaks those
// rules before anything is sent. It holds no secret: it lives in sessionStorage per workspace, so
// it survives navigation and reloads in the tab.
import type { AuthMethod } from "../gql/graphql";

export const MAX_PRODUCTS = 50; // the server's limit for one request

export interface CartProduct {
  id: string;
  name: string;
  authMethod: AuthMethod;
}

export interface CartPlan {
  id: string;
  name: string;
  autoApprove: boolean;
}

export interface CartItem {
  product: CartProduct;
  plan: CartPlan;
}

export type Cart = readonly CartItem[];

export const AUTH_METHOD_LABELS: Record<AuthMethod, string> = {
  AUTH_TOKEN: "Auth token",
  OAUTH2: "OAuth 2.0",
  JWT: "JWT",
  OIDC: "OpenID Connect",
  MTLS: "Client certificate (mTLS)",
};

/** The cart with `product` on `plan`: a product already there moves to the new plan. */
export function addToCart(cart: Cart, product: CartProduct, plan: CartPlan): Cart {
  return [...cart.filter((item) => item.product.id !== product.id), { product, plan }];
}

export function removeFromCart(cart: Cart, productId: string): Cart {
  return cart.filter((item) => item.product.id !== productId);
}

/** The cart with every product on `plan` (the way to settle on one plan). */
export function withOnePlan(cart: Cart, plan: CartPlan): Cart {
  return cart.map((item) => ({ ...item, plan }));
}

function distinct<T>(values: T[]): T[] {
  return [...new Set(values)];
}

/** The plans in the cart, once each, in the order they were added. */
export function plansOf(cart: Cart): CartPlan[] {
  const ids = distinct(cart.map((item) => item.plan.id));
  return ids.map((id) => cart.find((item) => item.plan.id === id)?.plan).filter((p): p is CartPlan => p !== undefined);
}

/** The one authentication method of the cart's products, or null when empty or mixed. */
export function cartAuthMethod(cart: Cart): AuthMethod | null {
  const methods = distinct(cart.map((item) => item.product.authMethod));
  return methods.length === 1 ? (methods[0] ?? null) : null;
}

/** What keeps the cart from being submitted, as sentences; empty when it can go. */
export function cartProblems(cart: Cart): string[] {
  const problems: string[] = [];
  if (cart.length === 0) problems.push("The cart is empty: add a product with “Access with this Plan”.");
  if (cart.length > MAX_PRODUCTS) problems.push(`A request holds at most ${MAX_PRODUCTS} products.`);
  const methods = distinct(cart.map((item) => item.product.authMethod));
  if (methods.length > 1) {
    const listed = methods.map((m) => AUTH_METHOD_LABELS[m]).join(", ");
    problems.push(`All products must use the same authentication method; this cart mixes ${listed}. Remove the others.`);
  }
  const plans = plansOf(cart);
  if (plans.length > 1) {
    problems.push(`A request has a single plan; this cart has ${plans.map((p) => p.name).join(", ")}. Choose one.`);
  }
  return problems;
}

function isItem(value: unknown): value is CartItem {
  const item = value as Partial<CartItem> | null;
  return (
    typeof item?.product?.id === "string" &&
    typeof item.product.name === "string" &&
    typeof item.product.authMethod === "string" &&
    typeof item.plan?.id === "string" &&
    typeof item.plan.name === "string" &&
    typeof item.plan.autoApprove === "boolean"
  );
}

/** The cart stored as JSON, or empty when missing or not a cart. */
export function parseCart(text: string | null): Cart {
  if (!text) return [];
  try {
    const value: unknown = JSON.parse(text);
    return Array.isArray(value) && value.every(isItem) ? value : [];
  } catch {
    return [];
  }
}
