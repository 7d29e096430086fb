import { useCallback, useEffect, useState } from "react";
import type { OperationContext } from "urql";

/**
 * A list's reload after a change that is never lost: a reload sent while the list's query is in
 * flight can be skipped or answered before that query, whose answer (from before the change)
 * then stays on screen; so the reload waits until nothing is fetching and then asks again.
 */
export function useReload(fetching: boolean, refetch: (opts?: Partial<OperationContext>) => void): () => void {
  const [pending, setPending] = useState(false);
  useEffect(() => {
    if (pending && !fetching) {
      setPending(false);
      refetch({ requestPolicy: "network-only" });
    }
  }, [pending, fetching, refetch]);
  return useCallback(() => setPending(true), []);
}
