// oidc-provider (a test-only dev dependency) ships no type declarations; the suite uses a few of its APIs.
declare module "oidc-provider" {
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  type Any = any;
  export default class Provider {
    constructor(issuer: string, configuration: Record<string, Any>);
    callback(): (req: Any, res: Any) => void;
    use(middleware: (ctx: Any, next: () => Promise<void>) => Promise<void>): void;
    interactionFinished(req: Any, res: Any, result: Any, options?: Any): Promise<void>;
  }
}
