/** The few parts of `ws` (a dependency of wrangler; no @types/ws installed) the client tests use. */
declare module "ws" {
  import type { IncomingMessage, Server } from "node:http";
  import type { Duplex } from "node:stream";
  export class WebSocket {
    constructor(url: string);
    send(data: string): void;
    close(code?: number, reason?: string): void;
    addEventListener(type: string, listener: (event: { data: unknown }) => void): void;
  }
  export class WebSocketServer {
    constructor(opts: { noServer: true } | { server: Server });
    handleUpgrade(req: IncomingMessage, socket: Duplex, head: Buffer, cb: (ws: WebSocket) => void): void;
    on(event: "connection", cb: (ws: WebSocket, req: IncomingMessage) => void): void;
    close(): void;
  }
}
