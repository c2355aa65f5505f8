import { render, useEffect, useState } from "hono/jsx/dom";
import { currentSession, onSessionChange, refresh, signOut, type Session } from "./api";
import { Link, navigate, useLocation } from "./ui";
import { AccountView } from "./views/account";
import { AuditView } from "./views/audit";
import { ForgotView, RegisterView, SignInView, SsoView } from "./views/auth";
import { OrgDetailView, OrgsView } from "./views/orgs";
import { MyOrgsSsoView, OrgSsoView } from "./views/org-sso";
import { StatsView } from "./views/stats";
import { TenderView } from "./views/tender";
import { UserDetailView } from "./views/user-detail";
import { UsersView } from "./views/users";
import { ReauthDialog } from "./views/reauth";
import { Bell } from "./views/bell";

const ADMIN_ROLES = ["admin", "superuser", "moderator"];
export const isAdmin = (s: Session | null) => !!s && s.user.roles.some((r) => ADMIN_ROLES.includes(r));

function useSession(): Session | null {
  const [s, setS] = useState(currentSession());
  useEffect(() => onSessionChange(() => setS(currentSession())), []);
  return s;
}

const PUBLIC = new Set(["/console/signin", "/console/register", "/console/forgot", "/console/sso"]);

function Nav({ session, path }: { session: Session; path: string }) {
  const item = (href: string, label: string) => (
    <li>
      <Link href={href} current={path === href || path.startsWith(`${href}/`)}>
        {label}
      </Link>
    </li>
  );
  return (
    <nav aria-label="Console">
      <ul>
        {isAdmin(session) ? (
          <>
            {item("/console/users", "Users")}
            {item("/console/orgs", "Organizations")}
            {item("/console/audit", "Audit log")}
            {item("/console/stats", "Stats")}
          </>
        ) : null}
        {item("/console/account", "My account")}
        {item("/console/org-sso", "Organization SSO")}
      </ul>
    </nav>
  );
}

function View({ path, session }: { path: string; session: Session }) {
  const user = /^\/console\/users\/([^/]+)$/.exec(path);
  if (user) return <UserDetailView id={decodeURIComponent(user[1]!)} />;
  const org = /^\/console\/orgs\/([^/]+)$/.exec(path);
  if (org) return <OrgDetailView id={decodeURIComponent(org[1]!)} />;
  const tender = /^\/console\/tenders\/([^/]+)$/.exec(path);
  if (tender) return <TenderView id={decodeURIComponent(tender[1]!)} />;
  const orgSso = /^\/console\/org-sso\/([^/]+)$/.exec(path);
  if (orgSso) return <OrgSsoView id={decodeURIComponent(orgSso[1]!)} />;
  switch (path) {
    case "/console/users":
      return <UsersView />;
    case "/console/orgs":
      return <OrgsView />;
    case "/console/audit":
      return <AuditView />;
    case "/console/stats":
      return <StatsView />;
    case "/console/account":
      return <AccountView session={session} />;
    case "/console/org-sso":
      return <MyOrgsSsoView />;
    default:
      return (
        <section>
          <h1>Not found</h1>
          <p>There is no console page at {path}.</p>
        </section>
      );
  }
}

function App() {
  const session = useSession();
  const { path } = useLocation();
  const [booting, setBooting] = useState(true);

  // A reload keeps the user signed in through the refresh cookie; nothing is read from storage.
  useEffect(() => {
    void refresh().finally(() => setBooting(false));
  }, []);

  useEffect(() => {
    if (booting) return;
    if (!session && !PUBLIC.has(path)) navigate(`/console/signin${path === "/console" ? "" : `?next=${encodeURIComponent(path)}`}`);
    else if (session && (PUBLIC.has(path) || path === "/console")) {
      // The sign-in screen may have moved on already (to `next`, e.g. an emailed tender link):
      // act only while still on a sign-in page, and send it where the sign-in was asked for.
      const live = location.pathname.replace(/\/+$/, "") || "/";
      if (!PUBLIC.has(live) && live !== "/console") return;
      const next = new URLSearchParams(location.search).get("next");
      navigate(next && next.startsWith("/console/") ? next : isAdmin(session) ? "/console/users" : "/console/account");
    }
  }, [booting, session, path]);

  useEffect(() => {
    const h1 = document.querySelector("main h1");
    document.title = `${h1?.textContent ?? "Console"} · keel console`;
  });

  if (booting) return <main id="main" class="card"><p>Loading…</p></main>;

  if (!session || PUBLIC.has(path)) {
    return (
      <>
        <header class="masthead">
          <span class="brand">keel</span> console
        </header>
        <main id="main" class="card">
          {path === "/console/register" ? <RegisterView /> : path === "/console/forgot" ? <ForgotView /> : path === "/console/sso" ? <SsoView /> : <SignInView />}
        </main>
      </>
    );
  }
  return (
    <>
      <header class="masthead console-head">
        <span class="brand">keel</span> console
        <Nav session={session} path={path} />
        <span class="who">
          <Bell sessionId={session.sessionId} /> {session.user.email}{" "}
          <button
            type="button"
            class="secondary small-button"
            onClick={async () => {
              await signOut();
              navigate("/console/signin");
            }}
          >
            Sign out
          </button>
        </span>
      </header>
      <main id="main" class="card wide">
        {session.passwordExpired ? (
          <div class="notice notice-error" role="alert">
            <p>Your password has expired: change it under My account before anything else.</p>
          </div>
        ) : null}
        <View path={path} session={session} />
      </main>
      <ReauthDialog session={session} />
    </>
  );
}

render(<App />, document.getElementById("app")!);
