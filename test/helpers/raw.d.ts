/** Vite's `?raw` imports (the file's text), used to read wrangler.toml as shipped. */
declare module "*?raw" {
  const text: string;
  export default text;
}
