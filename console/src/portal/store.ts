// The cart of each workspace in sessionStorage, read by every portal screen through one hook.
import { useCallback, useSyncExternalStore } from "react";
import { parseCart, type Cart } from "./cart";

const listeners = new Set<() => void>();
const cache = new Map<string, { text: string | null; cart: Cart }>();

function keyOf(workspaceId: string): string {
  return `accessplane.cart.${workspaceId}`;
}

function read(workspaceId: string): Cart {
  const text = sessionStorage.getItem(keyOf(workspaceId));
  const known = cache.get(workspaceId);
  if (known && known.text === text) return known.cart; // the same object while unchanged
  const cart = parseCart(text);
  cache.set(workspaceId, { text, cart });
  return cart;
}

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  return () => listeners.delete(listener);
}

/** The workspace's cart and a setter that stores it and updates every screen showing it. */
export function useCart(workspaceId: string): [Cart, (next: Cart) => void] {
  const cart = useSyncExternalStore(subscribe, () => read(workspaceId));
  const setCart = useCallback(
    (next: Cart) => {
      if (next.length) sessionStorage.setItem(keyOf(workspaceId), JSON.stringify(next));
      else sessionStorage.removeItem(keyOf(workspaceId));
      listeners.forEach((listener) => listener());
    },
    [workspaceId],
  );
  return [cart, setCart];
}
