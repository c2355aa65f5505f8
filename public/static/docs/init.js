// keel's API reference (/docs): starts the pinned Scalar bundle that the build copies next to this
// file (scripts/build-console.mjs, from the exact @scalar/api-reference version in package.json),
// configured to ask nothing of any other origin: no web fonts, no telemetry, no proxy, no agent.
// /docs answers with `script-src 'self'`, so this file and the bundle are the only scripts there.
(function () {
  var app = document.getElementById("app");
  if (typeof Scalar === "undefined" || !Scalar.createApiReference) {
    if (app) app.setAttribute("data-state", "bundle-missing");
    return;
  }
  // #app stays empty for Scalar (content in it would be a hydration mismatch); the notice goes.
  var loading = document.getElementById("docs-loading");
  if (loading) loading.remove();
  Scalar.createApiReference("#app", {
    url: "/openapi.json",
    withDefaultFonts: false,
    telemetry: false,
    showDeveloperTools: "never",
    mcp: { disabled: true },
    agent: { disabled: true },
  });
})();
