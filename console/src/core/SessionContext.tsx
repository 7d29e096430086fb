import { createContext, useContext } from "react";
import type { Session } from "./session";

export interface SessionContextValue {
  session: Session | null; // null while /auth/session is being asked
  setSession: (session: Session) => void;
}

export const SessionContext = createContext<SessionContextValue>({
  session: null,
  setSession: () => undefined,
});

export function useSession(): SessionContextValue {
  return useContext(SessionContext);
}
