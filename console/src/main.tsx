import "@mantine/core/styles.css";
import "@mantine/notifications/styles.css";
import { MantineProvider } from "@mantine/core";
import { Notifications } from "@mantine/notifications";
import { StrictMode, useEffect, useState } from "react";
import { createRoot } from "react-dom/client";
import { BrowserRouter, Route, Routes } from "react-router";
import { SessionContext } from "./core/SessionContext";
import { SessionGate } from "./core/SessionGate";
import { Home, Landing, Shell } from "./core/Shell";
import { loadSession, setSession as rememberSession, type Session } from "./core/session";
import { Empty } from "./core/states";
import { ROUTES } from "./routes";
import { SignInPage } from "./signin/SignInPage";
import { cssVariablesResolver, theme } from "./theme";

function App() {
  const [session, setSession] = useState<Session | null>(null);
  useEffect(() => {
    loadSession().then(setSession, () => setSession({ authenticated: false }));
  }, []);
  const update = (next: Session) => setSession(rememberSession(next));
  return (
    <SessionContext.Provider value={{ session, setSession: update }}>
      <Routes>
        <Route path="/sign-in" element={<SignInPage />} />
        <Route element={<SessionGate />}>
          <Route index element={<Home />} />
          <Route path="/workspaces/:workspaceId" element={<Shell />}>
            <Route index element={<Landing />} />
            {ROUTES.map((route) => (
              <Route key={route.path} path={route.path} element={route.element} />
            ))}
            <Route path="*" element={<Empty title="Page not found">Pick a section on the left.</Empty>} />
          </Route>
          <Route path="*" element={<Empty title="Page not found" />} />
        </Route>
      </Routes>
    </SessionContext.Provider>
  );
}

const root = document.getElementById("root");
if (root) {
  createRoot(root).render(
    <StrictMode>
      <MantineProvider theme={theme} cssVariablesResolver={cssVariablesResolver}>
        <Notifications />
        <BrowserRouter>
          <App />
        </BrowserRouter>
      </MantineProvider>
    </StrictMode>,
  );
}
