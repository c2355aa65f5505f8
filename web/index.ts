// keel-web (wrangler.toml beside this file): static assets are answered before this script runs;
// every other request goes to keel as it came (method, headers, body stream, WebSocket upgrade).
// Nothing from ../src: this Worker stays a few lines.

interface Env {
  API: Fetcher;
}

export default {
  fetch(request, env) {
    return env.API.fetch(request);
  },
} satisfies ExportedHandler<Env>;
