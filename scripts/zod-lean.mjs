// zod's entry point without `z.locales`. wrangler.toml aliases the bare specifier "zod" here.
//
// Why: @asteasolutions/zod-to-openapi (under @hono/zod-openapi) calls `extendZodWithOpenApi(z)`,
// so the `z` namespace escapes and esbuild must keep every export of it, including
// `export * as locales` (all ~50 languages of error messages, ~250 KB minified). keel never
// calls `z.locales`: English is installed by zod's own classic/schemas.js. Everything else is
// zod's v4/classic/external.js + index.js verbatim (same modules, so the same classes and
// the same global registry as any `zod/v4/core` import). bench/bundle.mjs shows the effect.
import * as z from "./zod-lean.mjs";
export { z, z as default };
export * as core from "./zod-core-lean.mjs";
export * from "../node_modules/zod/v4/classic/schemas.js";
export * from "../node_modules/zod/v4/classic/checks.js";
export * from "../node_modules/zod/v4/classic/errors.js";
export * from "../node_modules/zod/v4/classic/parse.js";
export * from "../node_modules/zod/v4/classic/compat.js";
export { globalRegistry, registry, config, memoizer, $output, $input, $brand, clone, regexes, treeifyError, prettifyError, formatError, flattenError, TimePrecision, util, NEVER, INVALID, toZod, getDiscriminatedOption, } from "../node_modules/zod/v4/core/index.js";
export { deepPartial } from "../node_modules/zod/v4/classic/deep-partial.js";
export { input, output } from "../node_modules/zod/v4/classic/in-out.js";
export { ZodISODateTime, ZodISODate, ZodISOTime, ZodISODuration } from "../node_modules/zod/v4/classic/iso.js";
export * as iso from "../node_modules/zod/v4/classic/iso.js";
export * as coerce from "../node_modules/zod/v4/classic/coerce.js";
