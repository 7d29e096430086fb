import { useMemo } from "react";
import { Navigate, Outlet, useLocation, useNavigate } from "react-router";
import { Provider } from "urql";
import { createClient } from "./client";
import { useSession } from "./SessionContext";
import { signInPath } from "./session";
import { Loading } from "./states";

/** Signed-in routes: no session sends to sign-in, keeping the page to come back to. */
export function SessionGate() {
  const { session, setSession } = useSession();
  const location = useLocation();
  const navigate = useNavigate();
  const here = location.pathname + location.search;
  const client = useMemo(
    () =>
      createClient(() => {
        // The session expired or was ended elsewhere: sign in again, then come back here.
        setSession({ authenticated: false });
        navigate(signInPath(window.location.pathname + window.location.search), { replace: true });
      }),
    // A new client (and cache) per signed-in session.
    // eslint-disable-next-line react-hooks/exhaustive-deps
    [session?.csrfToken],
  );
  if (session === null) return <Loading />;
  if (!session.authenticated) return <Navigate to={signInPath(here)} replace />;
  return (
    <Provider value={client}>
      <Outlet />
    </Provider>
  );
}
