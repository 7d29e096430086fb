import { useState } from "react";

/** Forward cursor paging with a way back: the stack of the cursors of the pages seen. */
export function usePaging() {
  const [cursors, setCursors] = useState<(string | null)[]>([null]);
  const after = cursors[cursors.length - 1] ?? null;
  return {
    after,
    page: cursors.length,
    next: (endCursor: string | null | undefined) => {
      if (endCursor) setCursors((stack) => [...stack, endCursor]);
    },
    previous: () => setCursors((stack) => (stack.length > 1 ? stack.slice(0, -1) : stack)),
    reset: () => setCursors([null]),
  };
}
